"""Synthetic landing zone for closedloop (docs/landing-zone.md): realistic people, journeys, CRM records and orders
with planted, known effects, written as monthly export files plus `ground_truth.json`.

Modules: `catalog` (the business and its planted effects), `people` (who and how far), `touches` (journeys),
`crm` (leads, deals, stage history, activities), `orders` (BG/NBD repeat purchases), `market` (fx, ad spend),
`identity` and `text` (vectorised text), `writer` (monthly files), `run` (the chunk loop and ground truth).
"""

from .run import generate_landing

__all__ = ["generate_landing"]
