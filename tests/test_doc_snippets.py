"""Every SQL, shell and Python snippet in README.md and warehouse/README.md runs exactly as
printed against a fresh sample warehouse of two builds, in document order (as a reader
goes), from a folder laid out as the project is. No placeholder is substituted."""

from __future__ import annotations

from tests.cli_build import run_build
from tests.doc_runner import SETUP, reader_folder, run_snippet, snippets


def test_every_doc_snippet_runs_as_printed(tmp_path, capsys):
    folder = reader_folder(tmp_path, tmp_path / "warehouse")
    for _ in range(2):  # two builds: the snippets about an earlier build have one
        code, _, err = run_build(tmp_path)
        assert code == 0, err[-3000:]
    found = snippets()
    setup = [s for s in found if SETUP.search(s.code)]
    ran, failed, sessions = [], [], {}
    for snippet in found:
        if snippet in setup:
            continue
        try:
            run_snippet(snippet, folder, sessions)
            ran.append(snippet)
        except AssertionError as exc:
            failed.append(str(exc))
    with capsys.disabled():
        print(
            f"\ndoc snippets: {len(ran)}/{len(found) - len(setup)} ran as printed; "
            f"{len(setup)} set-up commands left to CI (" + ", ".join(s.where for s in setup) + ")"
        )
    assert not failed, "\n".join(failed)
    assert len(ran) >= 20
