"""A small secret scanner for the repository: what a leaked credential looks like, and the placeholders that are fine.

Findings: private key blocks (PEM), yukimizu API tokens (`yk_` + 43 characters), well-known cloud and
chat token shapes, mosquitto_passwd hash lines, and in configuration and documentation files
(TOML, JSON, YAML, INI, .conf, .env, Markdown) a key named like a credential (password, secret, token,
api_key, ...) with a literal value. Documented placeholders (PLACEHOLDER_RE) are not findings: empty,
`CHANGE-ME` (any case, anything after it), `...`, `<...>`, `${VAR}`, `$VAR`, Grafana's `$__env{VAR}` / `$__file{PATH}`, and values
that only name an environment variable (`*_ENV` keys hold a variable's name, not a secret).
"""
from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

# The PEM marker is split so that this file does not match itself.
_PEM = "-----BEGIN" + r"(?: [A-Z0-9]+)* PRIVATE KEY-----"
SHAPES: dict[str, re.Pattern[str]] = {
    "private key": re.compile(_PEM),
    "yukimizu API token": re.compile(r"\byk_[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}"),
    "AWS access key id": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "Slack token": re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),
    "Grafana service account token": re.compile(r"\bglsa_[A-Za-z0-9_]{32,}"),
    "mosquitto password hash": re.compile(r"(?m)^[A-Za-z0-9_.:-]+:\$[67]\$\d*\$?[A-Za-z0-9+/=]{8,}\$"),
}
CONFIG_SUFFIXES = {".toml", ".json", ".yaml", ".yml", ".ini", ".conf", ".env", ".md", ".cfg"}
_KEY = r"[\"']?([A-Za-z0-9_.-]*(?:password|passwd|secret|token|api_?key|access_?key|private_?key|credential)[A-Za-z0-9_]*)[\"']?"
# key = "value" (TOML/INI), "key": "value" (JSON), key: value (YAML)
ASSIGNMENT = re.compile(_KEY + r"\s*[:=]\s*[\"']?([^\"'\s,#]*)", re.IGNORECASE)
# In prose (Markdown) only quoted values count: "the token: shown once" is a sentence, not a secret.
QUOTED_ASSIGNMENT = re.compile(_KEY + r"\s*[:=]\s*[\"']([^\"'\s,#]*)[\"']", re.IGNORECASE)
PLACEHOLDER_RE = re.compile(r"^(|(?i:change-me).*|\.\.\.|<[^>]*>|\$\{[^}]*\}|\$[A-Z_][A-Z0-9_]*|\$__(env|file)\{[^}]*\}.*"
                            r"|none|null|true|false|\[\]|\{\}|\[|\{|Token|Bearer|[A-Z][A-Z0-9_]*_(TOKEN|PASSWORD|SECRET|KEY|USER))$")


@dataclass(frozen=True)
class Finding:
    """A likely secret: where (file, line) and what it looks like (never the value itself)."""

    path: str
    line: int
    kind: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.kind}"


def scan_text(path: str, text: str) -> list[Finding]:
    """Every likely secret in one file's text."""
    out = []
    for kind, pat in SHAPES.items():
        for m in pat.finditer(text):
            out.append(Finding(path, text.count("\n", 0, m.start()) + 1, kind))
    if Path(path).suffix.lower() in CONFIG_SUFFIXES or ".example" in path:
        pattern = QUOTED_ASSIGNMENT if path.lower().endswith(".md") else ASSIGNMENT
        for n, line in enumerate(text.splitlines(), 1):
            for m in pattern.finditer(line):
                key, value = m.group(1), m.group(2)
                while value.endswith("}") and value.count("}") > value.count("{"):  # a JSON object closing
                    value = value[:-1]
                if key.lower().endswith(("_env", "_file", "_path", "_url")) or PLACEHOLDER_RE.match(value):
                    continue
                out.append(Finding(path, n, f"literal value for {key!r}"))
    return out


def repo_files(root: Path) -> list[Path]:
    """Files git tracks or would add (ignored files excluded)."""
    names = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=root,
                           capture_output=True, check=True).stdout.decode().split("\0")
    return [root / n for n in names if n and (root / n).is_file()]


def scan_tree(root: Path, files: list[Path] | None = None) -> list[Finding]:
    """Findings in every text file under root (git's view), paths relative to root."""
    out = []
    for p in files if files is not None else repo_files(root):
        try:
            text = p.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        out.extend(scan_text(str(p.relative_to(root)), text))
    return out
