"""Everything analysts open is escaped, Great Expectations' Data Docs included: rejected values that are HTML
(in `touchpoint_type` and `loss_reason`) go through a real `closedloop run`, the gate renders its pages, and a
headless Chromium opens every HTML page under the data dir and finds that none of the planted scripts ran."""

import csv
import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from browser import CHROMIUM, CHROMIUM_FLAGS
from commands import closedloop

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "landing_small"
HARNESS = """<!DOCTYPE html><html><head><title>harness</title></head><body><pre id="out"></pre><script>
const urls = URLS, out = document.getElementById('out');
let left = urls.length;
for (const url of urls) {
  const frame = document.createElement('iframe');
  frame.src = url;
  frame.onload = () => {
    out.textContent += JSON.stringify([url, frame.contentDocument.title]) + '\\n';
    if (--left === 0) out.setAttribute('data-done', '1');
  };
  document.body.appendChild(frame);
}
</script></body></html>"""
# staging lowercases these columns, so the script is written in lower case: it renames the page when it runs
PAYLOADS = (
    "<script>document.title='xss-script'</script>",
    '"><img src=x onerror="document.title=\'xss-img\'">',
    "<svg onload=document.title='xss-svg'>",
)  # not alert(): a dialog would stall the headless page instead of telling

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def append_csv(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        fields = next(csv.reader(handle))
    with path.with_name(f"zz_{path.name}").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows({name: row.get(name, "") for name in fields} for row in rows)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("docs")
    landing = root / "landing"
    shutil.copytree(FIXTURE, landing)
    data = root / "data"
    args = ["--landing", str(landing), "--data-dir", str(data)]
    append_csv(
        next((landing / "touchpoints").glob("*.csv")),
        [
            {
                "touchpoint_id": f"x{i}",
                "occurred_at": "2026-03-02T09:00:00Z",
                "anonymous_id": f"ax{i}",
                "touchpoint_type": payload,
                "page_url": "https://www.acme.io/",
            }
            for i, payload in enumerate(PAYLOADS)
        ],
    )
    append_csv(
        next((landing / "deals").glob("*.csv")),
        [
            {
                "deal_id": f"DX{i}",
                "lead_id": "L1",
                "created_at": "2026-03-05T10:00:00Z",
                "updated_at": "2026-03-20T10:00:00Z",
                "stage": "closed_lost",
                "amount": "10",
                "currency": "USD",
                "closed_at": "2026-03-20T10:00:00Z",
                "outcome": "lost",
                "loss_reason": payload,
                "product": "Analytics",
                "owner": "Alice",
            }
            for i, payload in enumerate(PAYLOADS)
        ],
    )
    result = closedloop("run", *args)
    # so many bad rows in so small a landing zone block the run; the gate renders its pages either way
    assert result.returncode == 1, result.stdout[-2000:] + result.stderr[-2000:]
    assert (
        "touchpoint_type_accepted_values" in result.stdout + result.stderr
        or "loss_reason" in result.stdout + result.stderr
    )
    return data


def pages(data: Path) -> list[Path]:
    return sorted(data.rglob("*.html"))


def test_the_rejected_values_reach_the_data_docs_encoded(data_dir):
    docs = [p for p in pages(data_dir) if "validations" in p.parts]
    assert docs, "no validation pages were rendered"
    text = "\n".join(p.read_text(encoding="utf-8") for p in docs)
    assert "xss-script" in text and "xss-img" in text  # the values are shown …
    for payload in ("<script>document.title", "<img src=x", "<svg onload"):
        assert payload not in text  # … but never as markup


def test_no_planted_script_runs_on_any_page_under_the_data_dir(data_dir, tmp_path):
    if not CHROMIUM.exists():
        pytest.fail("/usr/bin/chromium is absent (install it with: apt-get install -y chromium)")
    found = pages(data_dir)
    assert any("validations" in p.parts for p in found) and (data_dir / "quality" / "docs" / "index.html") in found
    # one browser for every page: a page of ours frames each of them and reads back its title once it has loaded
    # (file pages may read each other with --allow-file-access-from-files); a planted script renames its page
    urls = [p.resolve().as_uri() for p in found]
    harness = tmp_path / "harness.html"
    harness.write_text(HARNESS.replace("URLS", json.dumps(urls)), encoding="utf-8")
    dumped = subprocess.run(
        [
            str(CHROMIUM),
            *CHROMIUM_FLAGS,
            "--allow-file-access-from-files",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--dump-dom",
            harness.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    assert 'data-done="1"' in dumped.stdout, dumped.stdout[-2000:]
    titles = dict(
        json.loads(line)
        for line in html.unescape(
            re.search(r'<pre id="out"[^>]*>(.*?)</pre>', dumped.stdout, re.S).group(1)
        ).splitlines()
    )
    assert sorted(titles) == sorted(urls)
    ran = {url: title for url, title in titles.items() if "xss" in title}
    assert ran == {}, f"planted scripts ran: {ran}"
