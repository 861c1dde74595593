"""Fill locale/zh_Hans/LC_MESSAGES/django.po from zh_hans_translations.py.

Run after `manage.py makemessages -l zh_Hans`, then `manage.py compilemessages`:
    .venv/bin/python locale/translate.py
It lists the strings that have no translation yet and exits non-zero if there are any.
"""

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from zh_hans_translations import ZH_HANS  # noqa: E402

PO = Path(__file__).resolve().parent / "zh_Hans" / "LC_MESSAGES" / "django.po"
STRING = re.compile(r'"(.*)"')


def _joined(lines: list[str]) -> str:
    return "".join(STRING.search(line).group(1) for line in lines)


def fill(text: str) -> tuple[str, list[str]]:
    """The .po text with every known msgstr filled in, and the msgids still missing."""
    entries = text.rstrip("\n").split("\n\n")
    missing: list[str] = []
    header = entries[0]
    header = re.sub(r'"Plural-Forms: [^"]*"', r'"Plural-Forms: nplurals=1; plural=0;\\n"', header)
    header = header.replace('"Language: \\n"', '"Language: zh_Hans\\n"')
    header = header.replace("#, fuzzy\n", "")
    out = [header]
    for entry in entries[1:]:
        lines = entry.split("\n")
        msgid_lines: list[str] = []
        mode = None
        kept: list[str] = []
        for line in lines:
            if line.startswith("msgid "):
                mode = "id"
                msgid_lines = [line[len("msgid ") :]]
                kept.append(line)
            elif line.startswith("msgid_plural ") or line.startswith("msgstr"):
                mode = "plural" if line.startswith("msgid_plural") else "str"
                if mode == "plural":
                    kept.append(line)
            elif line.startswith('"'):
                if mode == "id":
                    msgid_lines.append(line)
                if mode in ("id", "plural"):
                    kept.append(line)
            else:
                kept.append(line)
        if not msgid_lines:
            out.append(entry)
            continue
        msgid = _joined(msgid_lines)
        translation = ZH_HANS.get(msgid)
        if translation is None:
            missing.append(msgid)
            translation = ""
        is_plural = any(line.startswith("msgid_plural ") for line in lines)
        # Django's .po files mark entries fuzzy when guessed; a filled entry is not a guess.
        kept = [line for line in kept if line != "#, fuzzy"]
        kept = [re.sub(r"^#, fuzzy, ", "#, ", line) for line in kept]
        kept.append(f'msgstr[0] "{translation}"' if is_plural else f'msgstr "{translation}"')
        out.append("\n".join(kept))
    return "\n\n".join(out), missing


def main() -> int:
    text, missing = fill(PO.read_text(encoding="utf-8"))
    PO.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    for msgid in missing:
        sys.stdout.write(f"missing: {msgid}\n")
    return 1 if missing else 0


if __name__ == "__main__":
    raise SystemExit(main())
