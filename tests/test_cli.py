from __future__ import annotations

from needsmap.cli import main


def test_bad_input_one_line_exit_2(tmp_path, capsys):
    bad = tmp_path / "caseload.csv"
    bad.write_text("ward_code,children_in_need\nE05000999,10\n")
    code = main(["run", "--caseload", str(bad), "--out", str(tmp_path / "o"), "--quiet"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1
    assert err[0].startswith("needsmap: error: caseload.csv: column 'ward_code'")
    assert "Traceback" not in err[0]
    assert not (tmp_path / "o").exists()


def test_bad_config_exit_2(tmp_path, capsys):
    cfg = tmp_path / "c.yml"
    cfg.write_text("nope: 1\n")
    assert main(["run", "--config", str(cfg), "--quiet"]) == 2
    assert "nope: unknown key" in capsys.readouterr().err


def test_run_prints_summary(tmp_path, capsys):
    assert main(["run", "--out", str(tmp_path / "o"), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "22 wards (synthetic caseload)" in out
    assert "needs_map.html" in out
    # --quiet: the one summary line only; the notes stay in run.json.
    assert len(out.strip().splitlines()) == 1
    assert out.strip().endswith("notes in run.json)")
