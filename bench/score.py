#!/usr/bin/env python3
"""Turns bench/run's results.tsv into the markdown table of
docs/benchmarks.md: per tree and tool, wall and CPU seconds, peak RSS,
findings, how many are policy hits (the places docs/validation.md lists as
policy hits), and kpolicy cold's wall time over the tool's."""
import json
import re
import sys


def policy_hits(validation):
    """{series: set of (file, line)} from docs/validation.md's tables."""
    hits = {"6.1": set(), "6.12": set()}
    series = None
    for line in open(validation, encoding="utf-8"):
        if line.startswith("## Linux 6.1."):
            series = "6.1"
        elif line.startswith("## Linux 6.12"):
            series = "6.12"
        elif line.startswith("## "):
            series = None
        m = re.match(r"\| \d+ \| ([\w/.\-]+):(\d+) \|.*\| policy hit \|", line)
        if series and m:
            hits[series].add((m.group(1), int(m.group(2))))
    return hits


def places(name, path):
    """(file, line) of every finding in a tool's output."""
    out = []
    try:
        text = open(path, encoding="utf-8", errors="replace").read()
    except OSError:
        return out
    if name.startswith("kpolicy"):
        try:
            report = json.loads(text)
        except ValueError:
            return out
        return [(f["file"], f["line"]) for f in report.get("findings", [])]
    if name == "semgrep":
        try:
            report = json.loads(text)
        except ValueError:
            return out
        return [(r["path"].removeprefix("./"), r["start"]["line"]) for r in report.get("results", [])]
    for line in text.splitlines():  # spatch, git grep: file:line:...
        m = re.match(r"(?:\./)?([^:]+):(\d+):", line)
        if m:
            out.append((m.group(1), int(m.group(2))))
    return out


def main():
    results, validation = sys.argv[1], sys.argv[2]
    hits = policy_hits(validation)
    rows = [line.rstrip("\n").split("\t") for line in open(results, encoding="utf-8") if line.strip()]
    cold = {r[0]: float(r[2]) for r in rows if r[1] == "kpolicy-cold"}
    print("| tree | run | wall s | CPU s | peak RSS MB | findings | policy hits | kpolicy cold wall / this | load before |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for tree, name, wall, cpu, rss, load, output in rows:
        found = places(name, output)
        policy = len({p for p in found if p in hits.get(tree, set())})
        ratio = cold.get(tree, 0) / float(wall) if float(wall) > 0 else 0
        print(f"| {tree} | {name} | {float(wall):.2f} | {float(cpu):.2f} | {rss} | {len(found)} | {policy} | {ratio:.2f} | {load} |")


if __name__ == "__main__":
    main()
