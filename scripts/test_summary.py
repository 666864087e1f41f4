"""Print each suite's Check summary (or SKIP reason) and one closing count line."""
import json
import sys


def main(path):
    counts = {"passed": 0, "failed": 0, "skipped": 0}
    with open(path) as f:
        runs = [json.loads(line) for line in f if line.strip()]
    print("\nper-suite results:")
    for run in runs:
        result = run.get("result", "")
        out = run.get("stdout", "") or ""
        detail = [ln.strip() for ln in out.splitlines() if "Checks:" in ln or ln.startswith("SKIP")]
        print(f"  {run['name']:<28} {result:<6} {' | '.join(detail)}")
        if result == "OK":
            counts["passed"] += 1
        elif result == "SKIP":
            counts["skipped"] += 1
        else:
            counts["failed"] += 1
    print(f"\ntests: {counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped")
    return 1 if counts["failed"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
