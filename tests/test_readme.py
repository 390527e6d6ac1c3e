"""The README's Python example runs as written (users copy it first)."""
import pathlib
import re

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_example_runs(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # it writes run.png
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "README lost its Python example"
    for code in blocks:
        exec(compile(code, str(README), "exec"), {})
    lines = capsys.readouterr().out.splitlines()
    total, converged = lines[0].split()
    assert converged == "True" and int(total) > 200
    assert lines[1].startswith("regret over 200 rounds (iterations")
    assert any("vs best fixed arm" in line for line in lines)
    assert (tmp_path / "run.png").stat().st_size > 10_000
