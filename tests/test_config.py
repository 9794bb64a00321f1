"""Configuration: discovery order, overrides and provenance, select/ignore/severity, every error.

Config files are written in tmp_path; the notes audited are the repo's own fixtures.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from opnote_audit import config, patterns, rules
from opnote_audit.errors import ConfigError, UsageError

REPO = Path(__file__).resolve().parent.parent
NOTE = REPO / "tests" / "fixtures" / "site_pack_note.txt"   # findings: approach-missing, extent-unstated
ALLOWED_KEYS = "code, fail-on, select, ignore, severity, patterns, format"


@pytest.fixture(autouse=True)
def _builtin_patterns_after():
    yield
    if patterns.extra_dirs():
        patterns.set_extra_dirs([])


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def run(args: list[str]):
    from opnote_audit import cli

    cli._register()
    return CliRunner().invoke(cli.app, args)


def config_error(cli: dict, config_path, cwd: Path) -> str:
    with pytest.raises(ConfigError) as info:
        config.resolve(cli, config_path, cwd)
    message = str(info.value)
    assert "\n" not in message
    return message


# ---------------------------------------------------------------- discovery


def test_no_config_file_gives_the_defaults(tmp_path):
    eff = config.resolve({}, None, tmp_path)
    assert eff.config_file is None
    assert eff.config_how == "none found"
    assert eff.values == {"code": "63102", "fail-on": "error", "select": None, "ignore": [],
                          "severity": {}, "patterns": [], "format": "text"}
    assert set(eff.sources.values()) == {"default"}


def test_own_file_beats_pyproject_in_the_same_folder(tmp_path):
    write(tmp_path / "pyproject.toml", '[tool.opnote-audit]\ncode = "63101"\n')
    own = write(tmp_path / ".opnote-audit.toml", 'fail-on = "warning"\n')
    eff = config.resolve({}, None, tmp_path)
    assert eff.config_file == own.resolve()
    assert (eff.code, eff.fail_on) == ("63102", "warning")


def test_nearest_file_wins_searching_upward(tmp_path):
    write(tmp_path / ".opnote-audit.toml", 'fail-on = "never"\n')
    nearer = write(tmp_path / "a" / "pyproject.toml", '[tool.opnote-audit]\ncode = "63101"\n')
    cwd = tmp_path / "a" / "b"
    cwd.mkdir()
    eff = config.resolve({}, None, cwd)
    assert eff.config_file == nearer.resolve()
    assert (eff.code, eff.fail_on) == ("63101", "error")
    assert eff.sources["code"] == str(nearer.resolve())
    assert eff.config_how == f"found from {cwd.resolve()}"


def test_pyproject_without_the_table_is_skipped(tmp_path):
    top = write(tmp_path / ".opnote-audit.toml", 'code = "63101"\n')
    write(tmp_path / "proj" / "pyproject.toml", '[project]\nname = "opnote-audit-site"\n')
    eff = config.resolve({}, None, tmp_path / "proj")
    assert eff.config_file == top.resolve()
    assert eff.code == "63101"


def test_config_option_beats_discovery(tmp_path):
    write(tmp_path / ".opnote-audit.toml", 'code = "63101"\n')
    chosen = write(tmp_path / "ci" / "audit.toml", 'fail-on = "warning"\n')
    eff = config.resolve({}, "ci/audit.toml", tmp_path)
    assert eff.config_file == chosen.resolve()
    assert eff.config_how == "--config"
    assert (eff.code, eff.fail_on) == ("63102", "warning")


def test_config_option_may_name_a_pyproject(tmp_path):
    py = write(tmp_path / "pyproject.toml", '[tool.opnote-audit]\nignore = ["pathology-no-imaging"]\n')
    eff = config.resolve({}, str(py), tmp_path / "elsewhere")
    assert eff.ignore == ["pathology-no-imaging"]
    assert eff.sources["ignore"] == str(py.resolve())


# ---------------------------------------------------------------- overrides and provenance


def test_command_line_overrides_the_file_key_by_key(tmp_path):
    path = write(tmp_path / ".opnote-audit.toml",
                 'code = "63101"\nfail-on = "warning"\nformat = "json"\n')
    eff = config.resolve({"code": "63102", "fail_on": None, "format": None, "patterns": []}, None, tmp_path)
    assert eff.values["code"] == "63102" and eff.sources["code"] == "command line"
    assert eff.values["fail-on"] == "warning" and eff.sources["fail-on"] == str(path.resolve())
    assert eff.values["format"] == "json" and eff.sources["format"] == str(path.resolve())
    assert eff.sources["select"] == "default"


def test_enum_values_from_typer_are_accepted(tmp_path):
    from opnote_audit.commands import FailOn

    eff = config.resolve({"fail-on": FailOn.never}, None, tmp_path)
    assert eff.fail_on == "never"


def test_file_pattern_folders_are_relative_to_the_file(tmp_path):
    pack = tmp_path / "site" / "pack"
    write(pack / "approach.yml", "terms:\n  - label: named\n    value: lateral extracavitary\n    phrases: [lxc]\n")
    write(tmp_path / "site" / ".opnote-audit.toml", 'patterns = ["pack"]\n')
    cwd = tmp_path / "site" / "notes"
    cwd.mkdir()
    eff = config.resolve({}, None, cwd)
    assert eff.patterns == [pack.resolve()]
    assert patterns.extra_dirs() == (pack.resolve(),)
    assert [(p.folder, [f.name for f in p.files]) for p in eff.packs] == [(pack.resolve(), ["approach.yml"])]


def test_command_line_pattern_folders_are_relative_to_cwd_and_replace_the_files(tmp_path):
    for name in ("a", "b"):
        write(tmp_path / name / "extent.yml", "terms: []\n")
    write(tmp_path / ".opnote-audit.toml", 'patterns = ["a"]\n')
    eff = config.resolve({"patterns": ["b"]}, None, tmp_path)
    assert eff.patterns == [(tmp_path / "b").resolve()]
    assert eff.sources["patterns"] == "command line"


# ---------------------------------------------------------------- select / ignore / severity


def findings():
    return [rules.finding("approach-missing"), rules.finding("pathology-no-imaging"),
            rules.finding("extent-unstated")]


def test_select_keeps_only_the_listed_rules(tmp_path):
    write(tmp_path / ".opnote-audit.toml", 'select = ["extent-unstated", "approach-missing"]\n')
    out = config.apply(findings(), config.resolve({}, None, tmp_path))
    assert [(f.rule, f.severity) for f in out] == [("approach-missing", "error"), ("extent-unstated", "error")]


def test_ignore_drops_the_listed_rules_and_wins_over_select(tmp_path):
    write(tmp_path / ".opnote-audit.toml",
          'select = ["approach-missing", "extent-unstated"]\nignore = ["approach-missing"]\n')
    out = config.apply(findings(), config.resolve({}, None, tmp_path))
    assert [f.rule for f in out] == ["extent-unstated"]


def test_severity_table_regrades_findings_and_leaves_the_input_alone(tmp_path):
    write(tmp_path / ".opnote-audit.toml",
          '[severity]\napproach-missing = "warning"\npathology-no-imaging = "error"\n')
    original = findings()
    out = config.apply(original, config.resolve({}, None, tmp_path))
    assert [(f.rule, f.severity) for f in out] == [
        ("approach-missing", "warning"), ("pathology-no-imaging", "error"), ("extent-unstated", "error")]
    assert original[0].severity == "error"


def test_check_uses_the_config_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert run(["check", str(NOTE)]).exit_code == 1
    write(tmp_path / ".opnote-audit.toml",
          'format = "json"\nignore = ["approach-missing"]\n[severity]\nextent-unstated = "warning"\n')
    result = run(["check", str(NOTE)])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert [(f["rule"], f["severity"]) for f in data["findings"]] == [("extent-unstated", "warning")]
    assert data["summary"]["errors"] == 0


def test_check_command_line_beats_the_config_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / ".opnote-audit.toml",
          'format = "json"\nfail-on = "never"\nselect = ["extent-unstated"]\n')
    assert run(["check", str(NOTE)]).exit_code == 0
    result = run(["check", str(NOTE), "--fail-on", "error", "-f", "text"])
    assert result.exit_code == 1
    assert not result.stdout.lstrip().startswith("{")


def test_format_for_a_command(tmp_path):
    check_formats, scan_formats = ("text", "json", "html"), ("table", "jsonl", "csv")
    eff = config.resolve({}, None, tmp_path)
    assert (eff.format_for(check_formats, "text"), eff.format_for(scan_formats, "table")) == ("text", "table")
    write(tmp_path / ".opnote-audit.toml", 'format = "jsonl"\n')
    eff = config.resolve({}, None, tmp_path)
    assert (eff.format_for(check_formats, "text"), eff.format_for(scan_formats, "table")) == ("text", "jsonl")
    eff = config.resolve({"format": "jsonl"}, None, tmp_path / "..")
    assert eff.format_for(check_formats, "text") == "jsonl"   # given on the command line: the command rejects it


def test_check_keeps_its_default_when_the_file_names_a_scan_format(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / ".opnote-audit.toml", 'format = "csv"\nfail-on = "never"\n')
    result = run(["check", str(NOTE), "--no-evidence"])
    assert result.exit_code == 0
    assert "approach-missing" in result.stdout and not result.stdout.startswith("file,")


def test_check_config_option_and_code_from_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = write(tmp_path / "other.toml", 'code = "63101"\nformat = "json"\nselect = ["level-region-conflict"]\n')
    result = run(["check", str(NOTE), "--config", str(cfg)])
    data = json.loads(result.stdout)
    assert data["code"] == "63101"
    assert [f["rule"] for f in data["findings"]] == ["level-region-conflict"]
    assert result.exit_code == 1


# ---------------------------------------------------------------- the config command


def test_config_command_shows_values_and_sources(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = write(tmp_path / ".opnote-audit.toml",
                 'code = "63101"\nignore = ["pathology-no-imaging"]\n[severity]\nmention-not-counted = "warning"\n')
    result = run(["config", "--fail-on", "warning"])
    assert result.exit_code == 0, result.stderr
    src = str(path.resolve())
    assert result.stdout.splitlines() == [
        f"# config file: {src} [found from {tmp_path.resolve()}]",
        f'code = "63101"                                           # from: {src}',
        'fail-on = "warning"                                      # from: command line',
        "# select: every rule                                     # from: default",
        f'ignore = ["pathology-no-imaging"]                        # from: {src}',
        f'severity = {{mention-not-counted = "warning"}}             # from: {src}',
        "patterns = []                                            # from: default",
        "# format: each command's own (check: text, scan: table)  # from: default",
        "",
        "# site pattern packs: none (built-in patterns only)",
    ]


def test_config_command_json(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run(["config", "--json", "--code", "63101"])
    data = json.loads(result.stdout)
    assert data["config_file"] is None
    assert data["settings"]["code"] == {"value": "63101", "source": "command line"}
    assert data["settings"]["select"] == {"value": None, "source": "default"}
    assert data["packs"] == []


# ---------------------------------------------------------------- errors: one line, exit 2


def test_unknown_key(tmp_path):
    path = write(tmp_path / ".opnote-audit.toml", "selct = []\n")
    assert config_error({}, None, tmp_path) == (
        f"{path.resolve()}: 'selct' is not a known key (did you mean 'select'?); allowed: {ALLOWED_KEYS}")


def test_unknown_key_in_pyproject_names_the_table(tmp_path):
    path = write(tmp_path / "pyproject.toml", '[tool.opnote-audit]\nfail_on = "warning"\n')
    assert config_error({}, None, tmp_path) == (
        f"{path.resolve()}: 'tool.opnote-audit.fail_on' is not a known key (did you mean 'fail-on'?); "
        f"allowed: {ALLOWED_KEYS}")


def test_unknown_rule_id_in_select(tmp_path):
    path = write(tmp_path / ".opnote-audit.toml", 'select = ["aproach-missing"]\n')
    message = config_error({}, None, tmp_path)
    # the closest id comes first; other close ids may follow as the catalogue grows
    assert message.startswith(
        f"{path.resolve()}: 'select' names unknown rule id 'aproach-missing' (did you mean approach-missing, ")
    assert message.endswith("?); allowed: the ids listed by `opnote-audit rules`")


def test_unknown_rule_id_in_ignore_without_a_close_match(tmp_path):
    path = write(tmp_path / ".opnote-audit.toml", 'ignore = ["E501"]\n')
    assert config_error({}, None, tmp_path) == (
        f"{path.resolve()}: 'ignore' names unknown rule id 'E501'; allowed: the ids listed by `opnote-audit rules`")


def test_bad_severity(tmp_path):
    path = write(tmp_path / ".opnote-audit.toml", '[severity]\napproach-missing = "fatal"\n')
    assert config_error({}, None, tmp_path) == (
        f"{path.resolve()}: 'severity.approach-missing' has unknown severity 'fatal'; allowed: error, warning, info")


def test_severity_for_an_unknown_rule(tmp_path):
    path = write(tmp_path / ".opnote-audit.toml", '[severity]\nlevel-mising = "info"\n')
    message = config_error({}, None, tmp_path)
    assert message.startswith(
        f"{path.resolve()}: 'severity.level-mising' names unknown rule id 'level-mising' (did you mean level-missing, ")
    assert message.endswith("?); allowed: the ids listed by `opnote-audit rules`")


def test_severity_must_be_a_table(tmp_path):
    path = write(tmp_path / ".opnote-audit.toml", 'severity = "info"\n')
    assert config_error({}, None, tmp_path) == (
        f"{path.resolve()}: 'severity' must be a table of rule id = error | warning | info")


def test_missing_pattern_folder(tmp_path):
    path = write(tmp_path / ".opnote-audit.toml", 'patterns = ["no-such-pack"]\n')
    assert config_error({}, None, tmp_path) == (
        f"{path.resolve()}: 'patterns' names a pattern folder that does not exist: "
        f"{tmp_path.resolve() / 'no-such-pack'} (allowed: existing folders, relative to {tmp_path.resolve()})")


def usage_error(cli: dict, cwd: Path) -> str:
    with pytest.raises(UsageError) as info:
        config.resolve(cli, None, cwd)
    return str(info.value)


def test_command_line_errors_use_the_option_names(tmp_path):
    assert usage_error({"patterns": ["gone"]}, tmp_path) == "gone: pattern folder not found (given with --patterns)"
    assert usage_error({"code": "63999"}, tmp_path) == "unknown --code 63999: choose one of 63101, 63102"
    assert usage_error({"select": ["E501"]}, tmp_path) == (
        "--select names unknown rule id 'E501'; allowed: the ids listed by `opnote-audit rules`")
    # --format is left to the command, which knows the formats it renders
    assert config.resolve({"format": "jsonl"}, None, tmp_path).format == "jsonl"


@pytest.mark.parametrize("text, message", [
    ('select = "approach-missing"\n', "'select' must be a list of strings"),
    ("ignore = [1, 2]\n", "'ignore' must be a list of strings"),
    ('patterns = "site"\n', "'patterns' must be a list of strings"),
    ('code = ["63102"]\n', "'code' must be a string, one of: 63101, 63102"),
    ("fail-on = true\n", "'fail-on' must be a string, one of: error, warning, never"),
])
def test_wrong_type(tmp_path, text, message):
    path = write(tmp_path / ".opnote-audit.toml", text)
    assert config_error({}, None, tmp_path) == f"{path.resolve()}: {message}"


def test_bad_values(tmp_path):
    path = write(tmp_path / ".opnote-audit.toml", 'code = "63103"\n')
    assert config_error({}, None, tmp_path) == f"{path.resolve()}: 'code' has unknown value '63103'; allowed: 63101, 63102"
    write(path, 'fail-on = "info"\n')
    assert config_error({}, None, tmp_path) == (
        f"{path.resolve()}: 'fail-on' has unknown value 'info'; allowed: error, warning, never")
    write(path, 'format = "xml"\n')
    assert config_error({}, None, tmp_path).startswith(f"{path.resolve()}: 'format' has unknown value 'xml'; allowed: text, json, html")


def test_code_may_be_written_as_a_number(tmp_path):
    write(tmp_path / ".opnote-audit.toml", "code = 63101\n")
    assert config.resolve({}, None, tmp_path).code == "63101"


def test_invalid_toml(tmp_path):
    path = write(tmp_path / ".opnote-audit.toml", "code = \n")
    assert config_error({}, None, tmp_path) == (
        f"{path.resolve()}: invalid TOML: Invalid value (at line 1, column 8)")


def test_config_file_not_found(tmp_path):
    assert config_error({}, "missing.toml", tmp_path) == (
        "missing.toml: configuration file not found (given with --config)")


def test_pyproject_given_without_the_table(tmp_path):
    path = write(tmp_path / "pyproject.toml", '[project]\nname = "x"\n')
    assert config_error({}, str(path), tmp_path) == f"{path.resolve()}: no [tool.opnote-audit] table"


def test_errors_exit_2_with_one_line_on_stderr(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = write(tmp_path / ".opnote-audit.toml", '[severity]\napproach-missing = "fatal"\n')
    for args in (["check", str(NOTE)], ["config"]):
        result = run(args)
        assert result.exit_code == 2
        assert result.stdout == ""
        assert result.stderr == (f"opnote-audit: error: {path.resolve()}: 'severity.approach-missing' has unknown "
                                 "severity 'fatal'; allowed: error, warning, info\n")


def test_a_failed_resolve_leaves_the_builtin_patterns(tmp_path):
    pack = tmp_path / "pack"
    write(pack / "extent.yml", "terms: []\n")
    write(tmp_path / ".opnote-audit.toml", 'patterns = ["pack"]\nignore = ["nope"]\n')
    with pytest.raises(ConfigError):
        config.resolve({}, None, tmp_path)
    assert patterns.extra_dirs() == ()
