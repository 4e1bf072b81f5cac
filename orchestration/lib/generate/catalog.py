"""What the synthetic business looks like: channels, campaigns, planted effects and vocabularies.

Everything here is plain data, so the ground truth written next to the landing zone can quote it verbatim.
"""

from __future__ import annotations

from dataclasses import dataclass

SITE = "https://www.acme-analytics.com"

CHANNELS = (
    "paid_search",
    "paid_social",
    "display",
    "email",
    "affiliate",
    "organic_social",
    "organic_search",
    "referral",
    "events",
    "direct",
)
CH = {name: i for i, name in enumerate(CHANNELS)}
TAGGED = ("paid_search", "paid_social", "display", "email", "affiliate")
PAID = ("paid_search", "paid_social", "display", "affiliate")
# channels that need a known email (a send list or a badge scan): never an anonymous visitor's touch
IDENTIFIED_ONLY = ("email", "events")

# Share of first touches per channel over all visitors.
FIRST_TOUCH_SHARE = {
    "paid_search": 0.15,
    "paid_social": 0.10,
    "display": 0.08,
    "email": 0.04,
    "affiliate": 0.05,
    "organic_social": 0.08,
    "organic_search": 0.26,
    "referral": 0.08,
    "events": 0.03,
    "direct": 0.13,
}

# Planted effects: P(stage | first-touch channel) = base rate × multiplier (see ground truth).
BASE_RATES = {"lead": 0.18, "opportunity": 0.28, "won": 0.26}
MULTIPLIERS = {
    "lead": {
        "paid_search": 1.5,
        "paid_social": 0.8,
        "display": 0.35,
        "email": 2.2,
        "affiliate": 1.2,
        "organic_social": 0.6,
        "organic_search": 1.0,
        "referral": 1.3,
        "events": 3.0,
        "direct": 1.1,
    },
    "opportunity": {
        "paid_search": 1.1,
        "paid_social": 0.8,
        "display": 0.6,
        "email": 0.9,
        "affiliate": 0.7,
        "organic_social": 0.7,
        "organic_search": 1.0,
        "referral": 1.4,
        "events": 1.5,
        "direct": 1.2,
    },
    "won": {
        "paid_search": 1.0,
        "paid_social": 0.8,
        "display": 0.7,
        "email": 1.0,
        "affiliate": 0.8,
        "organic_social": 0.9,
        "organic_search": 1.0,
        "referral": 1.3,
        "events": 1.2,
        "direct": 1.1,
    },
}

# Repeat purchases after a won deal (the won deal is purchase zero). Rates are per week.
PURCHASE_PROCESS = {
    "model": "BG/NBD (Fader, Hardie & Lee 2005)",
    "time_unit": "week",
    "r": 0.25,
    "alpha": 4.0,
    "a": 0.8,
    "b": 2.5,
}
# Order values (USD): CDNOW's p and q, gamma scaled from 15 to 600 for a B2B add-on business.
SPEND_PROCESS = {
    "model": "Gamma-Gamma (Fader, Hardie & Lee 2005)",
    "currency": "USD",
    "p": 6.0,
    "q": 4.0,
    "gamma": 600.0,
}

DUPLICATE_RATE = 0.04  # duplicate lead rows per lead person


@dataclass(frozen=True)
class Entry:
    """One way a touch arrives: a tagged campaign, a referrer, an event or plain direct traffic."""

    channel: str
    weight: float
    utm_source: str = ""
    utm_medium: str = ""
    utm_campaign: str = ""
    referrer: str = ""
    campaign_label: str = ""  # lead.source_campaign when this entry is the lead's source
    detail_label: str = ""  # lead.source_detail
    touch_type: str = ""  # forced touch type (events)
    cost_per_click: float = 0.0
    click_through: float = 0.0
    currency: str = "USD"


def _paid(channel, source, medium, campaign, weight, cpc, ctr, referrer="", currency="USD") -> Entry:
    return Entry(channel, weight, source, medium, campaign, referrer, campaign, source, "", cpc, ctr, currency)


def _free(channel, weight, referrer, campaign_label, detail_label, touch_type="") -> Entry:
    return Entry(
        channel,
        weight,
        referrer=referrer,
        campaign_label=campaign_label,
        detail_label=detail_label,
        touch_type=touch_type,
    )


GOOGLE = "https://www.google.com/"
BING = "https://www.bing.com/"
LINKEDIN = "https://www.linkedin.com/"
FACEBOOK = "https://www.facebook.com/"

ENTRIES: tuple[Entry, ...] = (
    _paid("paid_search", "google", "cpc", "brand_search", 3, 2.1, 0.09, GOOGLE),
    _paid("paid_search", "google", "cpc", "nonbrand_marketing_attribution", 4, 6.8, 0.035, GOOGLE),
    _paid("paid_search", "google", "cpc", "competitor_conquest", 2, 9.5, 0.025, GOOGLE),
    _paid("paid_search", "bing", "cpc", "brand_search", 1, 1.6, 0.08, BING),
    _paid("paid_search", "bing", "cpc", "nonbrand_marketing_attribution", 1, 4.2, 0.03, BING),
    _paid("paid_social", "linkedin", "paid_social", "abm_enterprise", 3, 9.0, 0.006, LINKEDIN),
    _paid("paid_social", "linkedin", "paid_social", "webinar_promo", 2, 7.5, 0.008, LINKEDIN),
    _paid("paid_social", "linkedin", "paid_social", "emea_awareness", 1, 6.5, 0.007, LINKEDIN, "EUR"),
    _paid("paid_social", "facebook", "cpc", "retargeting_visitors", 2, 1.4, 0.012, FACEBOOK),
    _paid("paid_social", "facebook", "paid_social", "lookalike_trial", 1, 1.9, 0.009, FACEBOOK),
    _paid("display", "google", "display", "gdn_retargeting", 3, 0.9, 0.004),
    _paid("display", "dv360", "cpm", "programmatic_awareness", 2, 1.2, 0.0015, "https://googleads.g.doubleclick.net/"),
    _paid("display", "capterra", "display", "category_banner", 1, 3.0, 0.003, "https://www.capterra.com/"),
    # email is tagged but costs nothing in ad_spend
    Entry("email", 4, "newsletter", "email", "monthly_newsletter", "", "monthly_newsletter", "newsletter"),
    Entry("email", 3, "hubspot", "email", "nurture_sequence", "", "nurture_sequence", "hubspot"),
    Entry("email", 2, "newsletter", "email", "product_update", "", "product_update", "newsletter"),
    Entry("email", 2, "hubspot", "email", "webinar_invite", "", "webinar_invite", "hubspot"),
    _paid("affiliate", "partnerstack", "affiliate", "partner_program", 2, 3.5, 0.02, "https://www.partnerstack.com/"),
    _paid("affiliate", "techradar", "affiliate", "review_roundup", 1, 2.5, 0.015, "https://www.techradar.com/"),
    _paid("affiliate", "martech_weekly", "affiliate", "sponsored_issue", 1, 3.0, 0.018),
    _free("organic_social", 4, LINKEDIN, "organic_social", "linkedin", ""),
    _free("organic_social", 2, "https://t.co/", "organic_social", "twitter"),
    _free("organic_social", 1, FACEBOOK, "organic_social", "facebook"),
    _free("organic_social", 1, "https://www.reddit.com/", "organic_social", "reddit"),
    _free("organic_social", 1, "https://www.youtube.com/", "organic_social", "youtube"),
    _free("organic_search", 8, GOOGLE, "organic_search", "google"),
    _free("organic_search", 1, BING, "organic_search", "bing"),
    _free("organic_search", 1, "https://duckduckgo.com/", "organic_search", "duckduckgo"),
    _free("referral", 3, "https://www.g2.com/products/acme-analytics/reviews", "referral", "g2.com"),
    _free("referral", 2, "https://www.capterra.com/p/acme-analytics/", "referral", "capterra.com"),
    _free("referral", 1, "https://medium.com/@growthnotes/attribution-tools", "referral", "medium.com"),
    _free("referral", 1, "https://www.producthunt.com/posts/acme-analytics", "referral", "producthunt.com"),
    _free("referral", 1, "https://www.dataopsclub.org/members", "referral", "dataopsclub.org"),
    _free("events", 2, "", "saastr_annual_2026", "trade_show", "event_visit"),
    _free("events", 2, "", "martech_summit_emea", "trade_show", "event_visit"),
    _free("events", 1, "", "revops_roadshow", "field_event", "event_visit"),
    _free("events", 3, "", "webinar_attribution_101", "webinar", "webinar_attended"),
    _free("events", 2, "", "webinar_ltv_masterclass", "webinar", "webinar_attended"),
    _free("events", 2, "", "webinar_pipeline_reviews", "webinar", "webinar_attended"),
    _free("direct", 1, "", "direct", "direct"),
)
WEBINARS = ("webinar_attribution_101", "webinar_ltv_masterclass", "webinar_pipeline_reviews")

UTM_CONTENT = {
    "paid_search": ("ad_variant_a", "ad_variant_b", "ad_variant_c"),
    "paid_social": ("carousel", "single_image", "video_15s", "lead_gen_form"),
    "display": ("leaderboard_728x90", "mrec_300x250", "skyscraper_160x600"),
    "email": ("header_cta", "footer_link", "hero_button"),
    "affiliate": ("top_banner", "comparison_table"),
}
UTM_TERMS = (
    "marketing attribution software",
    "multi touch attribution",
    "b2b attribution tool",
    "customer lifetime value",
    "acme analytics",
    "marketing roi dashboard",
    "hubspot attribution alternative",
    "closed loop reporting",
)

TOUCH_TYPES = (
    "page_view",
    "pricing_page_view",
    "ad_click",
    "email_open",
    "email_click",
    "content_download",
    "webinar_registration",
    "webinar_attended",
    "form_submit",
    "demo_request",
    "contact_request",
    "chat",
    "event_visit",
    "social_engagement",
)
TT = {name: i for i, name in enumerate(TOUCH_TYPES)}

# Touch types of anonymous web sessions, by channel.
ANON_TYPES = {
    "paid": {"ad_click": 0.75, "page_view": 0.2, "pricing_page_view": 0.05},
    "organic_search": {"page_view": 0.75, "pricing_page_view": 0.2, "chat": 0.05},
    "organic_social": {"social_engagement": 0.35, "page_view": 0.6, "pricing_page_view": 0.05},
    "referral": {"page_view": 0.8, "pricing_page_view": 0.2},
    "direct": {"page_view": 0.65, "pricing_page_view": 0.3, "chat": 0.05},
}
# Touch types of a known person after lead creation, by channel.
KNOWN_TYPES = {
    "email": {"email_open": 0.6, "email_click": 0.4},
    "paid": {"ad_click": 0.6, "page_view": 0.25, "pricing_page_view": 0.1, "webinar_registration": 0.05},
    "social": {"social_engagement": 0.4, "page_view": 0.5, "pricing_page_view": 0.1},
    "web": {
        "page_view": 0.52,
        "pricing_page_view": 0.19,
        "content_download": 0.12,
        "webinar_registration": 0.08,
        "chat": 0.04,
        "demo_request": 0.03,
        "contact_request": 0.02,
    },
}
ANON_TABLE = {
    "paid_search": "paid",
    "paid_social": "paid",
    "display": "paid",
    "affiliate": "paid",
    "organic_social": "organic_social",
    "organic_search": "organic_search",
    "referral": "referral",
    "direct": "direct",
}
# events touches take their type from the event itself; "web" is only a placeholder for them
KNOWN_TABLE = {
    **dict.fromkeys(PAID, "paid"),
    "email": "email",
    "organic_social": "social",
    "organic_search": "web",
    "referral": "web",
    "events": "web",
    "direct": "web",
}
# The touch that creates the lead, by how far the person will go in the funnel.
CONVERSION_TYPES = {
    "opportunity": {
        "demo_request": 0.45,
        "contact_request": 0.2,
        "form_submit": 0.15,
        "content_download": 0.1,
        "webinar_registration": 0.1,
    },
    "mql": {
        "demo_request": 0.15,
        "contact_request": 0.1,
        "form_submit": 0.3,
        "content_download": 0.25,
        "webinar_registration": 0.2,
    },
    "other": {
        "demo_request": 0.03,
        "contact_request": 0.05,
        "form_submit": 0.35,
        "content_download": 0.35,
        "webinar_registration": 0.22,
    },
}
HIGH_INTENT = ("demo_request", "contact_request", "pricing_page_view")
MEDIUM_INTENT = ("webinar_registration", "webinar_attended", "content_download")

# Channel mixes for the touches after the first one.
PRE_LEAD_MIX = {
    "organic_search": 0.3,
    "direct": 0.3,
    "paid_search": 0.12,
    "paid_social": 0.08,
    "display": 0.08,
    "referral": 0.06,
    "organic_social": 0.06,
}
CONVERSION_MIX = {"direct": 0.35, "organic_search": 0.3, "paid_search": 0.15, "paid_social": 0.1, "referral": 0.1}
POST_LEAD_MIX = {
    "email": 0.45,
    "direct": 0.17,
    "organic_social": 0.03,
    "organic_search": 0.12,
    "paid_search": 0.05,
    "paid_social": 0.06,
    "display": 0.04,
    "events": 0.06,
    "referral": 0.02,
}
DUPLICATE_MIX = {
    "paid_social": 0.25,
    "paid_search": 0.2,
    "organic_search": 0.2,
    "direct": 0.15,
    "referral": 0.1,
    "email": 0.1,
}
VISITOR_MIX = {"organic_search": 0.35, "direct": 0.35, "display": 0.1, "paid_social": 0.1, "referral": 0.1}
SUBSCRIBER_MIX = {"email": 0.7, "direct": 0.15, "organic_search": 0.1, "events": 0.05}

PATHS = {
    "page_view": (
        "/",
        "/product",
        "/features/multi-touch-attribution",
        "/features/customer-ltv",
        "/integrations",
        "/customers",
        "/about",
        "/blog/first-touch-vs-last-touch",
        "/blog/markov-attribution-explained",
        "/blog/ltv-cac-benchmarks",
        "/blog/speed-to-lead",
        "/blog/closing-the-loop-with-crm-data",
    ),
    "pricing_page_view": ("/pricing",),
    "ad_click": ("/lp/attribution-demo", "/lp/free-trial", "/lp/roi-calculator", "/pricing", "/demo"),
    "email_click": (
        "/blog/markov-attribution-explained",
        "/blog/ltv-cac-benchmarks",
        "/product/whats-new",
        "/webinars",
        "/pricing",
    ),
    "content_download": (
        "/resources/attribution-playbook",
        "/resources/ltv-benchmark-report",
        "/resources/revops-maturity-checklist",
    ),
    "webinar_registration": ("/webinars/attribution-101", "/webinars/ltv-masterclass", "/webinars/pipeline-reviews"),
    "form_submit": ("/free-trial", "/newsletter", "/contact"),
    "demo_request": ("/demo",),
    "contact_request": ("/contact-sales",),
    "chat": ("/", "/pricing", "/product", "/integrations"),
    # the post someone liked or shared, opened from the social network
    "social_engagement": (
        "/blog/first-touch-vs-last-touch",
        "/blog/markov-attribution-explained",
        "/blog/ltv-cac-benchmarks",
        "/customers",
    ),
}
EBOOKS = ("ebook_attribution_playbook", "report_ltv_benchmarks_2026", "checklist_revops_maturity")

FIRST_NAMES = (
    ("Alice", "alice"),
    ("Ben", "ben"),
    ("Chloé", "chloe"),
    ("Daniel", "daniel"),
    ("Emma", "emma"),
    ("François", "francois"),
    ("Grace", "grace"),
    ("Hiro", "hiro"),
    ("Isabel", "isabel"),
    ("Jonas", "jonas"),
    ("Jürgen", "jurgen"),
    ("Kofi", "kofi"),
    ("Laura", "laura"),
    ("Łukasz", "lukasz"),
    ("Maria", "maria"),
    ("Mohammed", "mohammed"),
    ("Nina", "nina"),
    ("Oliver", "oliver"),
    ("Priya", "priya"),
    ("Quentin", "quentin"),
    ("Rosa", "rosa"),
    ("Samuel", "samuel"),
    ("Søren", "soren"),
    ("Tanya", "tanya"),
    ("Umar", "umar"),
    ("Valentina", "valentina"),
    ("Wei", "wei"),
    ("Xavier", "xavier"),
    ("Yara", "yara"),
    ("Zoë", "zoe"),
    ("James", "james"),
    ("Olivia", "olivia"),
    ("Lucas", "lucas"),
    ("Sofia", "sofia"),
    ("Ethan", "ethan"),
    ("Mia", "mia"),
    ("Noah", "noah"),
    ("Aisha", "aisha"),
    ("Carlos", "carlos"),
    ("Hannah", "hannah"),
)
LAST_NAMES = (
    ("Smith", "smith"),
    ("Johnson", "johnson"),
    ("García", "garcia"),
    ("Müller", "muller"),
    ("Brown", "brown"),
    ("Nguyen", "nguyen"),
    ("Rossi", "rossi"),
    ("Kowalski", "kowalski"),
    ("Tanaka", "tanaka"),
    ("Okafor", "okafor"),
    ("Dubois", "dubois"),
    ("Jensen", "jensen"),
    ("Patel", "patel"),
    ("O'Brien", "obrien"),
    ("Silva", "silva"),
    ("Schmidt", "schmidt"),
    ("Kim", "kim"),
    ("Hernández", "hernandez"),
    ("Lefèvre", "lefevre"),
    ("Cohen", "cohen"),
    ("Walker", "walker"),
    ("Andersson", "andersson"),
    ("Ivanova", "ivanova"),
    ("Chen", "chen"),
    ("Murphy", "murphy"),
    ("Novak", "novak"),
    ("Baker", "baker"),
    ("Fischer", "fischer"),
    ("Moreau", "moreau"),
    ("Wright", "wright"),
)
COMPANY_WORDS_A = (
    "Bright",
    "North",
    "Blue",
    "Silver",
    "Rapid",
    "Clear",
    "Green",
    "Iron",
    "Summit",
    "Nova",
    "Atlas",
    "Vertex",
    "Harbor",
    "Pioneer",
    "Quantum",
    "Red",
    "Crescent",
    "Golden",
    "Alpine",
    "Urban",
)
COMPANY_WORDS_B = (
    "Harbor",
    "Wind",
    "Ledger",
    "Forge",
    "Stack",
    "Metrics",
    "Works",
    "Cloud",
    "Bridge",
    "Logic",
    "Path",
    "Signal",
    "Data",
    "Peak",
    "Wave",
    "Mill",
    "Grid",
    "Loop",
    "Field",
    "Point",
)
COMPANY_SUFFIXES = ("", " Inc.", ", Inc.", " GmbH", " Ltd", " Labs", " Group", " SA", " BV", " LLC")
FREE_DOMAINS = ("gmail.com", "gmail.com", "gmail.com", "outlook.com", "yahoo.com", "hotmail.com", "icloud.com")
WORK_TLDS = (".com", ".com", ".io", ".co")

REGIONS = {"north_america": 0.55, "emea": 0.30, "apac": 0.10, "latam": 0.05}
SEGMENTS = {
    "b2b_saas": 0.24,
    "fintech": 0.10,
    "manufacturing": 0.09,
    "business_services": 0.08,
    "ecommerce": 0.07,
    "cybersecurity": 0.06,
    "edtech": 0.05,
    "adtech": 0.05,
    "financial_services": 0.05,
    "healthcare": 0.05,
    "b2c_saas": 0.04,
    "consulting": 0.04,
    "real_estate": 0.03,
    "pharma": 0.03,
    "construction": 0.02,
}
# product: (weight, median deal amount in USD, gross margin)
PRODUCTS = {
    "attribution_suite": (0.4, 18_000, 0.82),
    "analytics_platform": (0.25, 36_000, 0.78),
    "data_connectors": (0.2, 7_500, 0.85),
    "professional_services": (0.15, 12_000, 0.45),
}
OWNERS = {
    "north_america": ("Alex Carter", "Jordan Lee", "Morgan Price", "Taylor Brooks", "Casey Diaz"),
    "emea": ("Sophie Laurent", "Lars Eriksen", "Elena Rossi", "Tom Fletcher"),
    "apac": ("Kenji Sato", "Priya Raman"),
    "latam": ("Mateo Alvarez",),
}
NEEDS = (
    "replace spreadsheets for campaign reporting",
    "multi-touch attribution for paid channels",
    "prove marketing ROI to the board",
    "connect CRM deals to ad spend",
    "LTV and cohort analysis",
    "speed up lead follow-up, reduce response time",
    "consolidate HubSpot, Salesforce and GA4 data",
)
LOSS_REASONS = {
    "price": 0.22,
    "no_budget": 0.16,
    "competitor": 0.18,
    "no_response": 0.14,
    "priority": 0.1,
    "no_urgency": 0.08,
    "technical_requirements": 0.07,
    "other": 0.05,
}
# stage of a lost deal when it was lost
LOST_AT = {"qualification": 0.35, "presentation": 0.3, "proposal": 0.2, "negotiation": 0.15}
OPEN_STAGES = ("qualification", "presentation", "proposal", "negotiation")
STAGE_MEDIAN_DAYS = (8.0, 10.0, 12.0, 9.0)

US_AREAS = ("415", "212", "646", "312", "617", "206", "512", "303", "404", "213")
FX_START = {"EUR": 1.08, "GBP": 1.27}
