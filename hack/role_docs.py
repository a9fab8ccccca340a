"""Write roles/<role>/README.md from each role's meta/argument_specs.yml; `--check` fails when one is stale."""

import pathlib
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent


def render(role: pathlib.Path) -> str:
    spec = yaml.safe_load((role / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]
    lines = [f"# Role `k8s_ee.platform.{role.name}`", "", spec["short_description"], ""]
    lines += [f"{d}" for d in spec.get("description", [])] + [""]
    lines += [
        "Generated from `meta/argument_specs.yml` by `hack/role_docs.py`.",
        "",
        "| variable | type | default | description |",
        "|---|---|---|---|",
    ]
    for name, option in spec["options"].items():
        default = option.get("default")
        shown = "" if default is None else f"`{yaml.safe_dump(default, default_flow_style=True).strip()}`"
        if shown.endswith("\n...`"):
            shown = shown[:-5] + "`"
        required = " (required)" if option.get("required") else ""
        shown = shown.replace("|", "\\|")
        lines.append(f"| `{name}` | {option['type']}{required} | {shown} | {option['description']} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    stale = []
    for role in sorted(p for p in (ROOT / "roles").iterdir() if (p / "meta" / "argument_specs.yml").exists()):
        wanted = render(role)
        readme = role / "README.md"
        if "--check" in sys.argv:
            if not readme.exists() or readme.read_text() != wanted:
                stale.append(str(readme.relative_to(ROOT)))
        else:
            readme.write_text(wanted)
    if stale:
        print(f"stale role READMEs (run `make role-docs`): {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
