"""Claim review (coder pre-review): the billed codes and diagnoses checked against the note.

Holds the parsing of ``--cpt`` (``CODE[-MOD...][xUNITS]``) and ``--icd`` values and of a claims
CSV for ``scan --claims``, the claim rules of the spec ("Claim review", "Companion procedures"),
the code set the note supports with its evidence, and the difference from the billed set with
RVUs where ``patterns/fees.yml`` knows them. Code facts come from ``patterns/cpt_claim.yml``;
messages from the rule catalogue (``patterns/rules_claim.yml``).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from opnote_audit import patterns, rules
from opnote_audit.errors import PatternError, UsageError
from opnote_audit.models import Evidence, Finding

CPT_FORMAT = re.compile(r"^(?P<code>\d{4}[0-9FTU])(?P<mods>(?:-[0-9A-Z]{2})*)(?:\s*[xX*]\s*(?P<units>\d{1,3}))?$")
MAX_UNITS = 99
CSV_COLUMNS = ("file", "cpt", "icd")


# ------------------------------------------------------------------------------- input

@dataclass(frozen=True)
class ClaimLine:
    """One billed line: code, modifiers and units."""

    code: str
    modifiers: tuple[str, ...] = ()
    units: int = 1

    def label(self) -> str:
        mods = "".join(f"-{m}" for m in self.modifiers)
        return f"{self.code}{mods}" + (f" x{self.units}" if self.units != 1 else "")

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "modifiers": list(self.modifiers), "units": self.units}


@dataclass
class ClaimInput:
    """The billed claim of one note: CPT lines and ICD-10-CM diagnoses (normalised)."""

    lines: list[ClaimLine] = field(default_factory=list)
    diagnoses: list[str] = field(default_factory=list)
    file: str | None = None          # as written in a claims CSV
    line: int | None = None          # CSV line number
    base_dir: Path | None = None     # folder of the claims CSV

    @classmethod
    def parse(cls, cpt: Iterable[str] = (), icd: Iterable[str] = ()) -> "ClaimInput":
        """Parse --cpt and --icd values; a malformed one raises :class:`UsageError`."""
        from opnote_audit import icd as icd_mod

        lines = [parse_cpt(v) for v in cpt]
        diagnoses = list(dict.fromkeys(icd_mod.normalize(v) for v in icd))
        return cls(lines, diagnoses)

    def units(self, code: str) -> int:
        return sum(ln.units for ln in self.lines if ln.code == code)

    def billed(self) -> dict[str, int]:
        """code -> total units, in the order billed."""
        out: dict[str, int] = {}
        for ln in self.lines:
            out[ln.code] = out.get(ln.code, 0) + ln.units
        return out

    def has_modifier(self, code: str, modifier: str) -> bool:
        return any(ln.code == code and modifier in ln.modifiers for ln in self.lines)

    def any_modifier(self, modifier: str, codes: Iterable[str] | None = None) -> bool:
        wanted = set(codes) if codes is not None else None
        return any(modifier in ln.modifiers and (wanted is None or ln.code in wanted) for ln in self.lines)

    @property
    def modifier62(self) -> bool:
        """Is modifier 62 (co-surgery) billed on a corpectomy code?"""
        return self.any_modifier(_modifier("cosurgery"), _codes_of_family("corpectomy"))


def parse_cpt(raw: str) -> ClaimLine:
    """``63103x2``, ``22558-51``, ``63102-62``, ``63102-62-59 x1`` -> :class:`ClaimLine`."""
    value = str(raw).strip().upper()
    m = CPT_FORMAT.match(value)
    shown = str(raw).strip()[:24]
    if not m:
        raise UsageError(f"malformed --cpt '{shown}': expected CODE[-MOD...][xUNITS], e.g. 63103x2, 22558-51, 63102-62")
    units = int(m.group("units")) if m.group("units") else 1
    if not 1 <= units <= MAX_UNITS:
        raise UsageError(f"malformed --cpt '{shown}': units must be 1 to {MAX_UNITS}")
    mods = tuple(x for x in m.group("mods").split("-") if x)
    return ClaimLine(m.group("code"), tuple(dict.fromkeys(mods)), units)


# ------------------------------------------------------------------------------- claims CSV

def load_claims_csv(path: str | Path) -> dict[str, ClaimInput]:
    """Read ``file,cpt,icd`` rows (codes ``;``-separated) -> {file as written: ClaimInput}.

    Raises :class:`UsageError` naming the CSV line of the first malformed row (and how many
    other rows are malformed): a missing header, an unknown code shape, a row without codes,
    a file listed twice.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{p}: cannot read the claims file ({type(exc).__name__})") from None
    reader = csv.reader(text.splitlines())
    rows = list(reader)
    header_idx = next((i for i, r in enumerate(rows) if any(c.strip() for c in r)), None)
    if header_idx is None:
        raise UsageError(f"{p}: the claims file is empty")
    header = [c.strip().lower() for c in rows[header_idx]]
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        raise UsageError(f"{p}:{header_idx + 1}: the header must name the columns file,cpt,icd (missing {', '.join(missing)})")
    col = {c: header.index(c) for c in CSV_COLUMNS}
    claims: dict[str, ClaimInput] = {}
    errors: list[str] = []
    for idx in range(header_idx + 1, len(rows)):
        row, lineno = rows[idx], idx + 1
        if not any(c.strip() for c in row):
            continue
        try:
            claim = _csv_row(row, col, lineno)
        except UsageError as exc:
            errors.append(f"{p}:{lineno}: {exc}")
            continue
        claim.base_dir = p.parent
        if claim.file in claims:
            errors.append(f"{p}:{lineno}: {claim.file} is listed twice (first on line {claims[claim.file].line})")
            continue
        claims[claim.file] = claim
    if errors:
        more = f" (and {len(errors) - 1} more malformed row(s))" if len(errors) > 1 else ""
        raise UsageError(errors[0] + more)
    return claims


def _csv_row(row: list[str], col: dict[str, int], lineno: int) -> ClaimInput:
    def cell(name: str) -> str:
        i = col[name]
        return row[i].strip() if i < len(row) else ""

    file = cell("file")
    if not file:
        raise UsageError("the file column is empty")
    cpt = [c for c in (x.strip() for x in cell("cpt").split(";")) if c]
    icd = [c for c in (x.strip() for x in cell("icd").split(";")) if c]
    if not cpt and not icd:
        raise UsageError(f"no CPT or ICD-10-CM codes for {file}")
    claim = ClaimInput.parse(cpt, icd)
    claim.file, claim.line = file, lineno
    return claim


def _keys(path: str | Path, base: Path | None) -> set[str]:
    p = Path(path)
    keys = {str(p), p.as_posix()}
    for root in filter(None, (base, Path.cwd())):
        try:
            keys.add(str((root / p).resolve()) if not p.is_absolute() else str(p.resolve()))
        except OSError:
            pass
    return keys


def find_claim(claims: dict[str, ClaimInput], note: str | Path) -> ClaimInput | None:
    """The claim row of a note: same path (as written, or relative to the CSV or the working
    folder), else the same file name when only one row has it."""
    note_keys = _keys(note, None)
    for claim in claims.values():
        if _keys(claim.file or "", claim.base_dir) & note_keys:
            return claim
    name = Path(note).name
    same = [c for c in claims.values() if Path(c.file or "").name == name]
    return same[0] if len(same) == 1 else None


def unmatched_claims(claims: dict[str, ClaimInput], notes: Iterable[str | Path]) -> list[ClaimInput]:
    """Claim rows whose note was not among ``notes`` (to report after a scan)."""
    used = {id(c) for n in notes if (c := find_claim(claims, n)) is not None}
    return [c for c in claims.values() if id(c) not in used]


# ------------------------------------------------------------------------------- code facts

@patterns.cached
def code_facts() -> dict[str, dict]:
    data = patterns.load("cpt_claim.yml")
    return {str(k): dict(v) for k, v in patterns.require(data, "codes", dict, "patterns/cpt_claim.yml").items()}


CONFLICT_CONDITIONS = ("billed_with", "device_placed")


def _conflicts(code: str, facts: dict) -> list[dict]:
    """A code's ``conflicts`` entries, checked: a known rule id and exactly one condition."""
    entries = facts.get("conflicts") or []
    if not isinstance(entries, list):
        raise PatternError(f"{patterns.where(facts, 'patterns/cpt_claim.yml')}: {code}: 'conflicts' must be a list")
    for c in entries:
        patterns.check_keys(c, ("rule", *CONFLICT_CONDITIONS), "patterns/cpt_claim.yml")
        if c.get("rule") not in rules.catalogue():
            raise PatternError(f"{patterns.where(c, 'patterns/cpt_claim.yml')}: {code}: unknown rule {c.get('rule')!r}")
        if sum(k in c for k in CONFLICT_CONDITIONS) != 1:
            raise PatternError(f"{patterns.where(c, 'patterns/cpt_claim.yml')}: {code}: a conflict needs exactly one "
                               f"of {', '.join(CONFLICT_CONDITIONS)}")
    return [{k: str(v) for k, v in c.items()} for c in entries]


def _modifier(name: str) -> str:
    return str((patterns.load("cpt_claim.yml").get("modifiers") or {}).get(name, ""))


def _codes_of_family(family: str) -> list[str]:
    return [c for c, f in code_facts().items() if f.get("family") == family]


@patterns.cached
def fee_schedule() -> dict[str, Any]:
    """The default schedule of patterns/fees.yml: {"source", "year", "codes": {code: values}}."""
    data = patterns.load("fees.yml")
    schedules = patterns.require(data, "schedules", list, "patterns/fees.yml")
    chosen = next((s for s in schedules if s.get("default")), schedules[0] if schedules else None)
    if chosen is None:
        return {"source": None, "year": None, "codes": {}}
    return {"source": chosen.get("source"), "year": chosen.get("year"),
            "codes": {str(k): dict(v or {}) for k, v in (chosen.get("codes") or {}).items()}}


def _total_rvu(code: str) -> float | None:
    val = fee_schedule()["codes"].get(code, {}).get("total_rvu")
    return float(val) if val is not None else None


# ------------------------------------------------------------------------------- review

@dataclass
class ClaimReview:
    """What the claim review adds to an audit result."""

    findings: list[Finding]
    data: dict[str, Any]


def _ev_dict(ev: list[Evidence]) -> list[dict]:
    return [{"line": e.line, "start": e.start, "end": e.end} for e in ev]


def _fmt(code: str, units: int) -> str:
    return code + (f" x{units}" if units != 1 else "")


class _Review:
    """One claim checked against one analysed note (see :func:`review`)."""

    def __init__(self, an, decisions: dict, claim: ClaimInput, code: str, suggested: list[dict]):
        from opnote_audit import companions as comp

        self.an, self.d, self.claim, self.code = an, decisions, claim, code
        self.facts = code_facts()
        self.billed = claim.billed()
        self.resected = [x for x in decisions["level"].notes.get("resected", []) if x[0] in "TL"]
        self.level_ev = decisions["level"].result.evidence[:2]
        self.companions = comp.detect(an, self.resected)
        self.by_family: dict[str, list] = {}
        for c in self.companions:
            self.by_family.setdefault(c.family, []).append(c)
        self.supported = self._supported(suggested)
        self.findings: list[Finding] = []

    # -- supported set
    def _supported(self, suggested: list[dict]) -> list[dict]:
        out = []
        for s in suggested:
            out.append({"code": s["code"], "units": s["units"], "source": "corpectomy",
                        "evidence": _ev_dict(self.level_ev),
                        "detail": f"resected: {', '.join(self.resected)}" if self.resected else ""})
        for c in self.companions:
            for entry in c.codes:
                out.append({"code": entry["code"], "units": entry["units"], "source": c.id,
                            "evidence": _ev_dict(c.evidence[:2]), "detail": c.detail})
        merged: dict[str, dict] = {}
        for s in out:
            if s["code"] in merged:
                merged[s["code"]]["units"] = max(merged[s["code"]]["units"], s["units"])
            else:
                merged[s["code"]] = s
        return list(merged.values())

    def add(self, rule_id: str, evidence: list[Evidence] | None = None, **fill: Any) -> None:
        self.findings.append(rules.finding(rule_id, evidence, **fill))

    # -- corpectomy codes
    def corpectomy_rules(self) -> None:
        corp = [c for c in self.billed if self.facts.get(c, {}).get("family") == "corpectomy"]
        if not corp:
            return
        primaries = [c for c in corp if self.facts[c].get("kind") == "primary"]
        for c in corp:
            need = [str(x) for x in self.facts[c].get("addon_to") or []]
            if need and not any(x in self.billed for x in need):
                self.add("claim-addon-without-primary", code=c, detail=" or ".join(need))
        for c in primaries:
            if self.billed[c] > 1:
                self.add("claim-primary-units", self.level_ev, code=c, value=str(self.billed[c]))
        if len(primaries) > 1:
            self.add("claim-two-primaries", self.level_ev, value=" and ".join(primaries))
        segs = len(self.resected)
        addon = next((c for c in corp if self.facts[c].get("kind") == "addon"), "63103")
        if primaries and segs >= 1:
            expected, got = segs - 1, self.billed.get(addon, 0)
            primary_units = sum(self.billed[c] for c in primaries)
            # 63102 x2 for two segments is already claim-primary-units
            if got != expected and not (primary_units > 1 and primary_units + got == segs):
                self.add("claim-addon-units", self.level_ev, code=addon, value=str(got),
                         detail=f"the note documents {segs} resected segment{'s' if segs != 1 else ''} "
                                f"({', '.join(self.resected)}): {addon} x{expected}")
        regions = {x[0] for x in self.resected}
        for c in primaries:
            region = str(self.facts[c].get("region", ""))
            if regions and region and not regions & set(region):
                names = {"T": "thoracic", "L": "lumbar"}
                self.add("claim-region-mismatch", self.level_ev, code=c, region=names.get(region, region),
                         detail=", ".join(self.resected))
        self._approach(corp)
        self._cosurgery(corp)

    def _approach(self, corp: list[str]) -> None:
        ap = self.d["approach"].result
        if ap.status in ("conflict", "insufficient", "missing"):
            self.add("claim-approach-unsupported", ap.evidence[:2], code=", ".join(corp),
                     value=ap.value or "none", detail=ap.status)

    def _cosurgery(self, corp: list[str]) -> None:
        co = self.d["co_surgeon"]
        if self.claim.any_modifier(_modifier("cosurgery"), corp):
            if co.result.status != "documented":
                self.add("claim-cosurgeon-roles", co.result.evidence[:2], detail=co.result.reason)
            if not co.notes.get("necessity"):
                self.add("claim-cosurgeon-necessity", co.result.evidence[:1])
        team = _modifier("team_surgery")
        for c in corp:
            if self.claim.has_modifier(c, team) and (self.facts[c].get("indicators") or {}).get("team_surgery") == 0:
                self.add("claim-team-surgery", code=c)

    # -- modifiers on add-on codes
    def modifier_rules(self) -> None:
        mod51 = _modifier("multiple_procedure")
        for ln in self.claim.lines:
            f = self.facts.get(ln.code, {})
            if mod51 in ln.modifiers and (f.get("mod51_exempt") or f.get("kind") == "addon"):
                self.add("claim-modifier51-addon", code=ln.code)

    # -- companion codes
    def companion_rules(self) -> None:
        supported = {s["code"] for s in self.supported}
        billed_families = {self.facts.get(c, {}).get("family") for c in self.billed}
        for c in self.billed:
            fam = self.facts.get(c, {}).get("family")
            if fam in (None, "corpectomy"):
                continue
            found = self.by_family.get(fam, [])
            if fam == "discectomy":
                self._discectomy(c, found)
            elif c in supported:
                self._documented(c, found)
            elif self._conflict(c, found):
                pass
            elif found and fam != "graft":
                alt = ", ".join(_fmt(e["code"], e["units"]) for x in found for e in x.codes)
                self.add("companion-code-differs", found[0].evidence[:2], code=c, value=alt, detail=found[0].detail)
            else:
                self.add("companion-undocumented", code=c,
                         detail=self.facts.get(c, {}).get("description", ""))
            if self.facts.get(c, {}).get("medicare_bundled"):
                self.add("companion-graft-bundled", code=c)
        for comp in self.companions:
            if not comp.codes or comp.family in billed_families and comp.family != "graft":
                continue
            if any(e["code"] in self.billed for e in comp.codes):
                continue
            self.add("companion-unbilled", comp.evidence[:2], value=", ".join(_fmt(e["code"], e["units"]) for e in comp.codes),
                     detail=comp.name)

    def _conflict(self, code: str, found: list) -> bool:
        """The first of the code's ``conflicts`` (cpt_claim.yml) that holds, reported; False if none."""
        for c in _conflicts(code, self.facts.get(code, {})):
            if "billed_with" in c and c["billed_with"] in self.billed and not found:
                dev = self.by_family.get("device", [])
                self.add(c["rule"], dev[0].evidence[:2] if dev else [], code=code)
                return True
            placed = [x for x in self.by_family.get("device", []) if x.facts.get(c.get("device_placed"))] \
                if "device_placed" in c else []
            if placed:
                dev = placed[0]
                self.add(c["rule"], dev.evidence[:2], code=code,
                         detail=_fmt(dev.codes[0]["code"], dev.codes[0]["units"]))
                return True
        return False

    def _documented(self, code: str, found: list) -> None:
        comp = next((x for x in found if any(e["code"] == code for e in x.codes)), None)
        if comp is None:
            return
        if comp.needs_reason and not comp.reason_stated:
            self.add("companion-reason-unstated", comp.evidence[:1], code=code, detail=comp.name)
        if not comp.separate_step:
            self.add("companion-not-separate", comp.evidence[:1], code=code, detail=comp.name)

    def _discectomy(self, code: str, found: list) -> None:
        if not found:
            self.add("companion-undocumented", code=code, detail=self.facts.get(code, {}).get("description", ""))
            return
        facts = found[0].facts
        if facts.get("adjacent") and not facts.get("separate"):
            self.add("companion-discectomy-included", found[0].evidence[:2], code=code,
                     detail=", ".join(facts["adjacent"]))

    # -- diagnoses
    def diagnosis_rules(self) -> list[dict]:
        if not self.claim.diagnoses:
            return []
        from opnote_audit import icd

        dxs = [icd.lookup(c) for c in self.claim.diagnoses]
        for dx in dxs:
            if not dx.valid:
                self.add("claim-icd-invalid", code=dx.code)
            elif not dx.billable:
                self.add("claim-icd-not-billable", code=dx.code, detail=dx.description)
        valid = [dx for dx in dxs if dx.valid]
        if valid and all(dx.category == ["symptom"] for dx in valid):
            self.add("claim-dx-symptom-only", self.d["pathology"].result.evidence[:1],
                     value=", ".join(dx.code for dx in valid))
        path = self.d["pathology"].result
        documented = {v["category"] for v in path.value or []} if path.status == "documented" else set()
        if documented:
            for dx in valid:
                structural = [c for c in dx.category if c != "symptom"]
                if structural and not set(structural) & documented:
                    self.add("claim-dx-pathology-mismatch", path.evidence[:1], code=dx.code,
                             value="/".join(structural), detail=", ".join(sorted(documented)))
        return [dx.to_dict() for dx in dxs]

    # -- billed vs supported
    def differences(self) -> tuple[list[dict], dict, list[str]]:
        sup = {s["code"]: s["units"] for s in self.supported}
        reviewed = {c: u for c, u in self.billed.items() if c in self.facts or c in sup}
        not_reviewed = [c for c in self.billed if c not in reviewed]
        diffs = []
        for c in list(dict.fromkeys([*reviewed, *sup])):
            b, s = reviewed.get(c, 0), sup.get(c, 0)
            if b == s:
                continue
            kind = "missing" if b == 0 else "extra" if s == 0 else "units"
            rvu = _total_rvu(c)
            diffs.append({"code": c, "kind": kind, "billed": b, "supported": s,
                          "rvu_difference": round((s - b) * rvu, 2) if rvu is not None else None})
        known_b = [c for c in reviewed if _total_rvu(c) is not None]
        known_s = [c for c in sup if _total_rvu(c) is not None]
        billed_total = round(sum(reviewed[c] * _total_rvu(c) for c in known_b), 2)
        supported_total = round(sum(sup[c] * _total_rvu(c) for c in known_s), 2)
        unknown = sorted({c for c in [*reviewed, *sup] if _total_rvu(c) is None})
        sched = fee_schedule()
        rvu = {"source": sched["source"], "year": sched["year"], "billed_total_rvu": billed_total,
               "supported_total_rvu": supported_total, "difference": round(supported_total - billed_total, 2),
               "unknown_codes": unknown}
        return diffs, rvu, not_reviewed


def review(an, decisions: dict, claim: ClaimInput, code: str, suggested: list[dict]) -> ClaimReview:
    """Check a billed claim against the analysed note: findings and the ``claim`` JSON block.

    ``decisions`` are the element decisions of :mod:`opnote_audit.elements` and ``suggested``
    the corpectomy code set :func:`opnote_audit.audit.suggest_codes` derived from them.
    """
    r = _Review(an, decisions, claim, code, suggested)
    r.corpectomy_rules()
    r.modifier_rules()
    r.companion_rules()
    diagnoses = r.diagnosis_rules()
    diffs, rvu, not_reviewed = r.differences()
    data = {
        "billed": [ln.to_dict() for ln in claim.lines],
        "diagnoses": diagnoses,
        "companions": [c.to_dict() for c in r.companions],
        "supported": r.supported,
        "differences": diffs,
        "rvu": rvu,
        "not_reviewed": not_reviewed,
        "modifier62": claim.modifier62,
    }
    return ClaimReview(r.findings, data)
