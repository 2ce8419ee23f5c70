#!/usr/bin/env python3
"""check-monitoring.py DASHBOARD RULES METRICS_TEXT...

Checks the Grafana dashboard's structure (what an import needs) and that every series the
dashboard and the alert rules select exists in the /metrics text of real servers: the
metric name, and each label value an exact or alternation matcher asks for. Prometheus'
own per-target series `up` is the only other name allowed. Exits 1 naming what is wrong.
"""
import json
import re
import sys

import yaml

problems = []

dashboard_path, rules_path, *metrics_paths = sys.argv[1:]

# --- The dashboard -------------------------------------------------------------------
with open(dashboard_path) as f:
    dash = json.load(f)
for key in ("uid", "title", "panels", "schemaVersion", "templating"):
    if key not in dash:
        problems.append(f"dashboard lacks '{key}'")
inputs = [i.get("name") for i in dash.get("__inputs", [])]
if "DS_PROMETHEUS" not in inputs:
    problems.append("dashboard has no DS_PROMETHEUS input to import with")
variables = {v["name"] for v in dash.get("templating", {}).get("list", [])}
exprs = []
ids = set()
titles = set()
for panel in dash.get("panels", []):
    pid = panel.get("id")
    if pid in ids:
        problems.append(f"panel id {pid} repeats")
    ids.add(pid)
    grid = panel.get("gridPos", {})
    if not all(isinstance(grid.get(k), int) for k in ("x", "y", "w", "h")):
        problems.append(f"panel {panel.get('title')} has no gridPos")
    if panel.get("type") == "row":
        continue
    titles.add(panel.get("title"))
    if not panel.get("targets"):
        problems.append(f"panel {panel.get('title')} has no query")
    for target in panel.get("targets", []):
        expr = target.get("expr", "")
        if not expr:
            problems.append(f"panel {panel.get('title')} has an empty query")
        for var in re.findall(r"\$(\w+)", expr):
            if var not in variables and not var.startswith("__"):
                problems.append(f"panel {panel.get('title')} uses undefined ${var}")
        exprs.append(("dashboard: " + panel["title"], expr))
# The panels the operations guide promises.
for wanted in ("Flush latency", "Fenced", "Store errors", "Cache hit ratio", "Replica lag",
               "Protocol operations", "Protocol operation errors", "Store bytes"):
    if wanted not in titles:
        problems.append(f"dashboard has no '{wanted}' panel")

# --- The rules -----------------------------------------------------------------------
with open(rules_path) as f:
    rules = yaml.safe_load(f)
alerts = 0
for group in rules["groups"]:
    for rule in group["rules"]:
        alerts += 1
        exprs.append(("rule: " + rule.get("alert", rule.get("record", "?")), rule["expr"]))

# --- What real servers export --------------------------------------------------------
samples = {}  # name -> list of label dicts
for path in metrics_paths:
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? ", line)
            if not m:
                problems.append(f"{path}: unparsable sample line: {line}")
                continue
            labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
            samples.setdefault(m.group(1), []).append(labels)

# Selectors: a metric name, optionally followed by {matchers}, once the grouping clauses
# (by (...)), range selectors ([5m]) and function names are out of the way; `up` is the
# one other series the rules may use.
selector = re.compile(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{([^}]*)\})?")
functions = {"sum", "rate", "increase", "histogram_quantile", "and", "or", "unless", "avg",
             "max", "min", "count", "irate", "absent", "clamp_min", "clamp_max"}
used = set()
for where, expr in exprs:
    bare = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", " ", expr)
    bare = re.sub(r"\[[^\]]*\]", " ", bare)
    for name, _, matchers in selector.findall(bare):
        if name in functions:
            continue
        if name == "up":
            if where.startswith("rule: ") and "job=" in matchers:
                continue
            problems.append(f"{where}: up without a job matcher")
            continue
        if not name.startswith("zerofs_"):
            problems.append(f"{where}: '{name}' is not a ZeroFS metric")
            continue
        used.add(name)
        if name not in samples:
            problems.append(f"{where}: {name} is not in any server's /metrics")
            continue
        for label, op, value in re.findall(r'(\w+)\s*(=~|!=|!~|=)\s*"([^"]*)"', matchers):
            if label in ("instance", "job") or op.startswith("!"):
                continue
            values = value.split("|") if op == "=~" else [value]
            for v in values:
                if not any(s.get(label) == v for s in samples[name]):
                    problems.append(f"{where}: no {name} sample has {label}=\"{v}\"")

for p in problems:
    print("FAIL:", p)
if problems:
    sys.exit(1)
print(f"ok: {len(exprs)} queries ({alerts} alerts) use {len(used)} metrics, all exported:")
print("   ", " ".join(sorted(used)))
