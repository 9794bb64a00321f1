"""Site pattern packs: the example pack in examples/site-pack changes the verdict on a note
that uses a local abbreviation and a surgeon's phrasing; packs are validated like built-ins.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from opnote_audit import config, patterns
from opnote_audit.audit import audit_file
from opnote_audit.errors import ConfigError, PatternError

REPO = Path(__file__).resolve().parent.parent
PACK = REPO / "examples" / "site-pack"
NOTE = REPO / "tests" / "fixtures" / "site_pack_note.txt"


@pytest.fixture(autouse=True)
def _builtin_patterns_after():
    yield
    if patterns.extra_dirs():
        patterns.set_extra_dirs([])


def run(args: list[str]):
    from opnote_audit import cli

    cli._register()
    return CliRunner().invoke(cli.app, args)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------- the example pack changes the verdict


def test_without_the_pack_the_local_wording_is_not_understood():
    result = audit_file(NOTE)
    assert result.elements["approach"].status == "missing"
    assert result.elements["extent"].status == "insufficient"
    assert [f.rule for f in result.findings] == ["approach-missing", "extent-unstated"]
    assert result.verdict == "gaps"
    assert result.suggested_codes == []


def test_with_the_pack_the_note_supports_63102():
    patterns.set_extra_dirs([PACK])
    result = audit_file(NOTE)
    approach = result.elements["approach"]
    assert (approach.status, approach.value) == ("documented", "lateral extracavitary")
    assert [e.text for e in approach.evidence][:1] == ["LXC corpectomy"]
    assert (result.elements["extent"].status, result.elements["extent"].value) == ("documented", "complete")
    assert result.findings == []
    assert result.verdict == "supports"
    assert result.suggested_codes == [{"code": "63102", "units": 1}]


def test_check_with_and_without_the_pack_option(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    without = run(["check", str(NOTE), "-f", "json"])
    assert without.exit_code == 1
    assert json.loads(without.stdout)["verdict"] == "gaps"
    with_pack = run(["check", str(NOTE), "-f", "json", "--patterns", str(PACK)])
    assert with_pack.exit_code == 0, with_pack.stderr
    assert json.loads(with_pack.stdout)["verdict"] == "supports"


def test_check_takes_the_pack_from_the_config_file(tmp_path, monkeypatch):
    # a relative folder starts at the config file's folder, not at the working folder
    rel = os.path.relpath(PACK, tmp_path / "cfg")
    cfg = write(tmp_path / "cfg" / "audit.toml", f'patterns = ["{rel}"]\nformat = "json"\n')
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    result = run(["check", str(NOTE), "--config", str(cfg)])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["verdict"] == "supports"
    assert config.resolve({}, str(cfg), tmp_path / "work").patterns == [PACK.resolve()]


def test_config_command_lists_the_pack_and_its_files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run(["config", "--patterns", str(PACK)])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert f'patterns = ["{PACK.resolve()}"]' in lines[6]
    assert lines[6].endswith("# from: command line")
    assert lines[-4:] == [
        "# site pattern packs, merged over the built-in patterns in this order:",
        f"#   {PACK.resolve()}",
        "#     approach.yml: terms +2 entries",
        "#     extent.yml: terms +1 entry",
    ]
    data = json.loads(run(["config", "--patterns", str(PACK), "--json"]).stdout)
    assert data["packs"] == [{
        "folder": str(PACK.resolve()),
        "files": [
            {"name": "approach.yml", "path": str(PACK.resolve() / "approach.yml"), "adds": {"terms": "+2 entries"}},
            {"name": "extent.yml", "path": str(PACK.resolve() / "extent.yml"), "adds": {"terms": "+1 entry"}},
        ],
    }]


def test_pack_can_replace_a_setting(tmp_path):
    pack = tmp_path / "pack"
    write(pack / "approach.yml", "near_window: 5\n")
    eff = config.resolve({"patterns": [str(pack)]}, None, tmp_path)
    assert eff.packs[0].files[0].adds == {"near_window": "replaced"}
    assert patterns.load("approach.yml")["near_window"] == 5


# ---------------------------------------------------------------- packs are validated like built-ins


def pack_error(tmp_path: Path, name: str, text: str) -> str:
    pack = tmp_path / "pack"
    write(pack / name, text)
    with pytest.raises(ConfigError) as info:
        config.resolve({"patterns": [str(pack)]}, None, tmp_path)
    return str(info.value)


def test_pack_file_without_a_builtin_counterpart(tmp_path):
    message = pack_error(tmp_path, "aproach.yml", "terms: []\n")
    assert message.startswith(f"{tmp_path.resolve()}/pack/aproach.yml: site pack file has no built-in counterpart "
                              "(did you mean approach.yml?); allowed names: approach.yml, codes.yml, ")
    assert patterns.extra_dirs() == ()


def test_pack_unknown_top_level_key(tmp_path):
    assert pack_error(tmp_path, "approach.yml", "term: []\n") == (
        f"{tmp_path.resolve()}/pack/approach.yml: unknown top-level key(s) term; allowed: near_window, terms")


def test_pack_list_where_the_builtin_has_a_number(tmp_path):
    assert pack_error(tmp_path, "approach.yml", "near_window: [1]\n") == (
        f"{tmp_path.resolve()}/pack/approach.yml: 'near_window' must be a int like the built-in one")


def test_pack_must_be_a_mapping(tmp_path):
    assert pack_error(tmp_path, "extent.yml", "- a\n- b\n") == (
        f"{tmp_path.resolve()}/pack/extent.yml: a site pack file must be a mapping like the built-in one")


def test_empty_pack_folder(tmp_path):
    (tmp_path / "pack").mkdir()
    with pytest.raises(ConfigError) as info:
        config.resolve({"patterns": [str(tmp_path / "pack")]}, None, tmp_path)
    assert str(info.value).startswith(f"{(tmp_path / 'pack').resolve()}: pattern folder has no .yml files; allowed names: ")


def test_pack_invalid_yaml_names_file_and_line(tmp_path):
    pack = tmp_path / "pack"
    write(pack / "extent.yml", "terms:\n  - label: complete\n    phrases: [a, b\n")
    with pytest.raises(PatternError) as info:
        config.resolve({"patterns": [str(pack)]}, None, tmp_path)
    assert str(info.value).startswith(f"{pack.resolve()}/extent.yml:")
    assert ": invalid YAML: " in str(info.value)


def test_malformed_term_is_an_exit_2_error_naming_file_and_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    pack = tmp_path / "pack"
    write(pack / "approach.yml", "terms:\n  - label: named\n    phrase: [lxc]\n")
    for args in (["config", "--patterns", str(pack)], ["check", str(NOTE), "--patterns", str(pack)]):
        result = run(args)
        assert result.exit_code == 2
        assert result.stderr.startswith(
            f"opnote-audit: error: {pack.resolve()}/approach.yml:2: unknown key(s) phrase; allowed: alone_conflict, ")
        assert ", label, " in result.stderr and ", phrases, " in result.stderr
        assert result.stderr.count("\n") == 1
