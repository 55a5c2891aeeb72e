"""``lstmkit generate fit | sample | evaluate`` end to end on tiny data.

The happy path runs in subprocesses, as a user would; the error messages are
checked through ``lstmkit.cli.main`` in-process (same code path, no start-up cost).
"""

import subprocess
import sys

from lstmkit.cli import main

TEXT = "In the beginning God created the heavens and the earth.\nThe earth was formless and empty.\n" * 4


def _run(*args):
    return subprocess.run([sys.executable, "-m", "lstmkit.cli", "generate", *args],
                          capture_output=True, text=True, timeout=300, check=False)


def test_generate_cli_end_to_end(tmp_path, capsys):
    train = tmp_path / "train.txt"
    train.write_text(TEXT, encoding="utf-8")
    model = tmp_path / "lm"
    fit = _run("fit", "--train", str(train), "--val", str(train), "--out", str(model), "--epochs", "2",
               "--hidden-size", "24", "--embed-size", "8", "--num-layers", "1", "--batch-size", "4",
               "--bptt", "16", "--no-progress")
    assert fit.returncode == 0, fit.stderr
    assert "val_bpc" in fit.stdout and (model / "config.json").is_file()

    args = ["sample", str(model), "--prime", "The ", "--max-length", "25", "--seed", "3", "--top-k", "5"]
    first = _run(*args)
    assert first.returncode == 0, first.stderr
    # the 0.1 spellings still work, with a notice: positional MODEL_DIR, --seed
    assert "use --model DIR" in first.stderr and "--seed is deprecated" in first.stderr
    assert first.stdout.startswith("The ") and len(first.stdout) == len("The ") + 25 + 1
    assert main(["generate", *args]) == 0
    assert capsys.readouterr().out == first.stdout  # same seed, same text, in another process

    ev = _run("evaluate", str(model), "--text", str(train))
    assert ev.returncode == 0, ev.stderr
    assert "bpc" in ev.stdout and "perplexity" in ev.stdout

    assert main(["generate", "sample", str(model), "--prime", ""]) == 2
    captured = capsys.readouterr()
    # an empty --prime reads as not given (the library's own empty-prime error is in test_generate.py)
    assert "--prime" in captured.err and captured.out == ""
    assert main(["generate", "sample", str(model), "--prime", "Zß"]) == 2
    assert "not in the model's vocabulary" in capsys.readouterr().err
    assert main(["generate", "evaluate", str(tmp_path / "nowhere"), "--text", str(train)]) == 2
    assert "lstmkit: error:" in capsys.readouterr().err

    blank = tmp_path / "blank.txt"
    blank.write_text("\n\n", encoding="utf-8")
    assert main(["generate", "fit", "--train", str(blank), "--out", str(tmp_path / "never")]) == 2
    assert "has no text" in capsys.readouterr().err
    assert not (tmp_path / "never").exists()
