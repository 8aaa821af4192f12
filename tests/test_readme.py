"""Every ```console block in the README runs as shown.

Each block runs as one bash script in a fresh folder, with this Python's
``md5steg`` first on PATH and HOME pointing into that folder. A ``$ `` line is
a command; the lines after it, up to the next command, are what it prints
(stdout and stderr together). In those lines ``…`` stands for any text on
that line: timings, rates, counts that vary between machines. Examples that
cannot run here (a GPU, a cluster, ``pip install``) belong in ```sh blocks.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

README = Path(__file__).parent.parent / "README.md"
SEPARATOR = "@@md5steg-readme-command@@"
INSTALLS = re.compile(r"\b(pip|pipx|uv|apt|apt-get)\b.*\binstall\b")
"""Never run from a test: it would change the test environment (or the machine)."""


@dataclass
class Example:
    """One ```console block: its commands and what each prints."""

    line: int
    commands: list[str]
    outputs: list[list[str]]


def console_blocks(text: str) -> list[Example]:
    examples: list[Example] = []
    current: Example | None = None
    indent = 0  # a block inside a list item is indented as a whole
    for number, line in enumerate(text.splitlines(), start=1):
        if current is None:
            if line.strip() == "```console":
                current, indent = Example(number, [], []), len(line) - len(line.lstrip())
            continue
        line = line[indent:]
        if line.strip() == "```":
            examples.append(current)
            current = None
        elif line.startswith("$ "):
            current.commands.append(line[2:])
            current.outputs.append([])
        else:
            assert current.commands, f"README.md:{number}: output before the first $ command"
            current.outputs[-1].append(line)
    return examples


def matches(expected: str, actual: str) -> bool:
    pattern = ".*".join(re.escape(part) for part in expected.split("…"))
    return re.fullmatch(pattern, actual) is not None


EXAMPLES = console_blocks(README.read_text(encoding="utf-8"))


def test_the_readme_has_console_examples() -> None:
    assert len(EXAMPLES) >= 2


@pytest.mark.skipif(
    os.environ.get("MD5STEG_NO_EXTENSIONS", "") not in ("", "0"),
    reason="the README's searches take seconds on the compiled core, minutes on the pure engine",
)
@pytest.mark.parametrize("example", EXAMPLES, ids=[f"README.md:{example.line}" for example in EXAMPLES])
def test_console_example_runs_as_shown(example: Example, tmp_path: Path) -> None:
    installing = [command for command in example.commands if INSTALLS.search(command)]
    assert not installing, f"README.md:{example.line} installs packages ({installing[0]}): make it a ```sh block"
    bin_folder = tmp_path / ".bin"
    bin_folder.mkdir()
    shim = bin_folder / "md5steg"
    shim.write_text(f'#!/bin/sh\nexec {sys.executable} -c "from md5steg.__main__ import main; main()" "$@"\n')
    shim.chmod(0o755)
    script = "exec 2>&1\n" + "\n".join(f"echo {SEPARATOR}\n{command}" for command in example.commands)
    env = {**os.environ, "PATH": f"{bin_folder}{os.pathsep}{os.environ['PATH']}", "HOME": str(tmp_path)}
    env.pop("MD5STEG_PASSPHRASE", None)
    completed = subprocess.run(
        ["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
        stdin=subprocess.DEVNULL,
    )
    printed = completed.stdout.split(SEPARATOR + "\n")[1:]
    assert len(printed) == len(example.commands), completed.stdout
    for command, expected, actual in zip(example.commands, example.outputs, printed):
        lines = actual.splitlines()
        assert len(lines) == len(expected) and all(map(matches, expected, lines)), (
            f"README.md:{example.line}: $ {command}\nexpected:\n" + "\n".join(expected) + "\ngot:\n" + actual
        )
