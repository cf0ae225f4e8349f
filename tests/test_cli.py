from __future__ import annotations

import re

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


def test_run_refuses_to_write_when_the_audit_can_narrow_a_hidden_count(
    tmp_path, monkeypatch, capsys
):
    from needsmap import audit, pipeline

    honest = pipeline.publication

    def leaky(results):
        # As if some output published a hidden "fewer than 5" cell's exact value.
        pub = honest(results)
        ward, column = pub.hidden.stack()[lambda s: s].index[0]
        value = float(pub.values.at[ward, column])
        pub.relations.append(audit.Relation(((ward, column),), (1.0,), value, value, "bug"))
        return pub

    monkeypatch.setattr(pipeline, "publication", leaky)
    code = main(["run", "--out", str(tmp_path / "out"), "--quiet"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1
    # The pinned cell, and any other its column total then gives away.
    assert re.match(
        r"needsmap: error: disclosure audit: \d+ hidden count\(s\) could be narrowed", err[0]
    )
    assert "nothing was written" in err[0]
    assert not (tmp_path / "out").exists()
