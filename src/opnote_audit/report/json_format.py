"""JSON: exactly the contract of the spec (``schema/audit-result.schema.json``)."""

from __future__ import annotations

import json

from opnote_audit.report import RenderOptions, result_dict


def render(result, options: RenderOptions) -> str:
    return json.dumps(result_dict(result, options), indent=2, ensure_ascii=False, sort_keys=False) + "\n"
