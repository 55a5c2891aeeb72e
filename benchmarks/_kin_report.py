"""Tables and merging for benchmarks/kin.py results.

Tables show, per model and length, the mean over seeds with the [min, max]
range, how many seeds solved (solve rate or token accuracy >= 95%) and the mean
number of training steps done; a cell that was not run says why ("-" for a
per-model ceiling, "not run" for the deadline, "error"). Rows written before
seeds were recorded count as one seed.

:func:`merge` joins part-JSONs of separate runs (e.g. the synthetic parts from
a many-core machine and the LM from another) into one; every part keeps the
machine, settings and seeds of the run that produced it under ``runs``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from _kin_cells import PROBLEMS, SOLVED

PARTS = ("lag", "copy", "lm", "forecast", "cost")


def summary(row: dict) -> str:
    """One progress-line summary of a finished cell's row."""
    for key, fmt in (("solve_rate", "solve {:.3f}"), ("token_accuracy", "acc {:.3f}"),
                     ("test_bpc", "test bpc {:.3f}"), ("test_mase", "test MASE {:.3f}")):
        if key in row:
            text = fmt.format(row[key])
            break
    else:
        text = "done"
    if "steps" in row:
        text += f" ({row['steps']} steps, {row['cpu_s']} s CPU train, {row['cell_cpu_s']} s CPU cell)"
    return text


def _range(values, fmt: str) -> str:
    if len(values) == 1:
        return fmt.format(values[0])
    return f"{fmt.format(np.mean(values))} [{fmt.format(min(values))}, {fmt.format(max(values))}]"


def _missing_cell(data: dict, match: dict) -> str:
    """How a grid cell without rows shows in the table."""
    def hit(entry):
        return all(entry.get(k) == v for k, v in match.items())

    if any(hit(c) for c in data.get("skipped", [])):
        return "-"
    if any(hit(c) for c in data.get("errors", [])):
        return "error"
    if any(hit(c) for c in data.get("not_run", [])):
        return "not run"
    return "-"


def _synthetic_cell(rows, metric: str | None, key: str, pct: str) -> str:
    vals = [r[key] for r in rows]
    solved = sum(v >= SOLVED for v in vals)
    text = _range(vals, pct) + f" {solved}/{len(vals)}"
    if metric is not None:
        text += f" ({_range([r[metric] for r in rows], '{:.3g}')}; {np.mean([r['steps'] for r in rows]):.0f})"
    else:
        text += f" ({np.mean([r['steps'] for r in rows]):.0f})"
    return text


def _grid(data, rows, part, Ts, key, metric, pct, extra) -> list[str]:
    lines = []
    for m in data["models"]:
        mine = [r for r in rows if r["model"] == m]
        if not mine and not any(c.get("model") == m and c.get("part") == part
                                for c in data.get("skipped", []) + data.get("not_run", [])):
            continue
        cells = []
        for T in Ts:
            at = [r for r in mine if r["T"] == T]
            cells.append(_synthetic_cell(at, metric, key, pct) if at
                         else _missing_cell(data, {"part": part, "model": m, "T": T, **extra}))
        params = mine[0]["params"] if mine else "-"
        lines.append(f"| {m} | {params} | " + " | ".join(cells) + " |")
    return lines


def tables(data: dict) -> str:
    """The Markdown tables of a results JSON (what the README shows)."""
    lines = []
    if "lag" in data:
        for task in PROBLEMS:
            rows = [r for r in data["lag"] if r["task"] == task]
            Ts = sorted({r["T"] for r in rows} | {c["T"] for c in data.get("skipped", [])
                                                  if c.get("part") == "lag" and c.get("task") == task})
            metric = "mse" if task == "adding" else "accuracy"
            lines += [f"\n{task}: solve rate, mean over seeds [min, max], seeds solving >= 95% "
                      f"({metric}; mean steps done) by T\n",
                      "| model | params | " + " | ".join(f"T = {T}" for T in Ts) + " |",
                      "|---|---:|" + "---:|" * len(Ts)]
            lines += _grid(data, rows, "lag", Ts, "solve_rate", metric, "{:.0%}", {"task": task})
    if "copy" in data:
        Ts = sorted({r["T"] for r in data["copy"]} | {c["T"] for c in data.get("skipped", [])
                                                      if c.get("part") == "copy"})
        lines += ["\nselective copy: token accuracy, mean over seeds [min, max], seeds >= 95% "
                  "(mean steps done) by T\n",
                  "| model | params | " + " | ".join(f"T = {T}" for T in Ts) + " |", "|---|---:|" + "---:|" * len(Ts)]
        lines += _grid(data, data["copy"], "copy", Ts, "token_accuracy", None, "{:.1%}", {})
    if "lm" in data:
        lines += ["\ncharacter LM (Bible): held-out bits per character at equal CPU time, mean over seeds "
                  "[min, max]\n",
                  "| model | params | seeds | steps | CPU s | val bpc | test bpc |", "|---|---:|---:|---:|---:|---:|---:|"]
        for m in dict.fromkeys(r["model"] for r in data["lm"]["rows"]):
            rs = [r for r in data["lm"]["rows"] if r["model"] == m]
            steps = np.mean([r.get("steps", r.get("iterations", 0)) for r in rs])
            lines.append(f"| {m} | {rs[0]['params']} | {len(rs)} | {steps:.0f} | "
                         f"{np.mean([r['cpu_s'] for r in rs]):.1f} | {_range([r['val_bpc'] for r in rs], '{:.3f}')} | "
                         f"{_range([r['test_bpc'] for r in rs], '{:.3f}')} |")
    if "forecast" in data:
        lines += ["\nAirPassengers 1960 (12 months): MASE, mean over seeds [min, max]\n",
                  "| model | params | seeds | val MASE (1959) | test MASE (1960) |", "|---|---:|---:|---:|---:|"]
        for m in dict.fromkeys(r["model"] for r in data["forecast"]):
            rs = [r for r in data["forecast"] if r["model"] == m]
            lines.append(f"| {m} | {rs[0].get('params', '-')} | {len(rs)} | "
                         f"{_range([r['val_mase'] for r in rs], '{:.3f}')} | "
                         f"{_range([r['test_mase'] for r in rs], '{:.3f}')} |")
    if "cost" in data:
        lines += _cost_table(data["cost"])
    for key, machine in data.get("machines", {}).items():
        if " T=" in key:
            base = data["machines"].get(key.split(" T=")[0], {})
            lines.append(f"\n{key}: ran on {machine.get('processor', '?')} ({machine.get('source', '?')}); "
                         f"the other columns on {base.get('processor', '?')} ({base.get('source', '?')})")
    for m, why in data.get("not_available", {}).items():
        lines.append(f"\n{m}: {why}")
    reasons = dict.fromkeys(c["reason"] for c in data.get("skipped", []))
    for why in reasons:
        who = sorted({f"{c['part']} {c['model']} T = {c['T']}" for c in data["skipped"] if c["reason"] == why})
        lines.append(f"\n-: {why}: {', '.join(who)}")
    if data.get("not_run"):
        lines.append(f"\nnot run: {len(data['not_run'])} cells not started before the deadline")
    for e in data.get("errors", []):
        lines.append(f"\nerror: {e['part']} {e.get('task', '')} {e.get('T', '')} {e['model']} seed {e['seed']}: "
                     f"{e['error']}")
    return "\n".join(lines)


def _cost_table(cost: dict) -> list[str]:
    c0 = next(iter(cost.values()))
    Ts, ctx = list(c0["train_positions_per_s"]), list(c0["streaming"]["by_context"])
    lines = ["\ncost: training positions/s (batch 8) and ms per streamed step after t steps\n",
             "| model | width | " + " | ".join(f"train T={T}" for T in Ts) + " | "
             + " | ".join(f"step t={t}" for t in ctx) + " | state floats t=" + f"{ctx[0]} / {ctx[-1]} |",
             "|---|---:|" + "---:|" * (len(Ts) + len(ctx) + 1)]
    for m, c in cost.items():
        by = c["streaming"]["by_context"]
        lines.append(f"| {m} | {c['width']} | " + " | ".join(f"{c['train_positions_per_s'][T]:.0f}" for T in Ts)
                     + " | " + " | ".join(f"{by[t]['ms_per_step']:.2f}" for t in ctx)
                     + f" | {by[ctx[0]]['state_floats']} / {by[ctx[-1]]['state_floats']} |")
    return lines


def _groups(rows: list[dict]) -> set[tuple]:
    """The (task, T) columns that a synthetic part's rows fill."""
    return {(r.get("task"), r["T"]) for r in rows}


def _replace_groups(out: dict, part: str, rows: list[dict], machine: dict) -> None:
    """A later file's (task, T) columns of a synthetic part replace the earlier file's, whole:
    each column of a table then comes from one machine (recorded under ``machines`` as
    "part T=..."). The replaced rows are kept under ``superseded`` with their source, and the
    earlier file's not-run, skipped and error entries of those columns are dropped."""
    groups = _groups(rows)
    inside = lambda r: (r.get("task"), r["T"]) in groups  # noqa: E731
    earlier = out["machines"][part]["source"]
    out.setdefault("superseded", []).extend({**r, "source": earlier} for r in out[part] if inside(r))
    out[part] = [r for r in out[part] if not inside(r)] + rows
    for key in ("skipped", "not_run", "errors"):
        out[key] = [c for c in out[key] if c.get("part") != part or not inside(c)]
    Ts = ",".join(str(T) for T in sorted({T for _, T in groups}))
    out["machines"][f"{part} T={Ts}"] = machine


def merge(paths: list[Path]) -> dict:
    """One results dict from part-JSONs. A part found in two inputs is a user error, except a
    synthetic part (lag, copy) whose later file fills only some of its (task, T) columns: those
    columns are taken whole from the later file (see :func:`_replace_groups`)."""
    out: dict = {"benchmark": "kin", "merged_from": [p.name for p in paths], "models": [], "runs": [],
                 "machines": {}, "not_available": {}, "skipped": [], "not_run": [], "errors": []}
    protocols, validation = [], {}
    for path in paths:
        data = json.loads(path.read_text())
        parts = [p for p in PARTS if p in data]
        for part in parts:
            machine = data.get("machines", {}).get(part) or data.get("machine") or {
                "torch": data.get("torch"), "python": data.get("python")}
            if part in out:
                if part not in ("lag", "copy") or _groups(out[part]) <= _groups(data[part]):
                    raise SystemExit(f"lstmkit: error: part {part!r} is in more than one of the files to merge "
                                     f"({out['machines'][part]['source']} and {path.name})")
                _replace_groups(out, part, data[part], {**machine, "source": path.name})
                continue
            out[part] = data[part]
            out["machines"][part] = {**machine, "source": path.name}
        out["runs"].append({"source": path.name, "parts": parts, "seeds": data.get("seeds"),
                            "workers": data.get("workers"), "settings": data.get("settings"),
                            "wall_seconds": data.get("wall_seconds"), "machine": data.get("machine"),
                            "quick": bool(data.get("quick"))})
        out["models"] += [m for m in data.get("models", []) if m not in out["models"]]
        out["not_available"].update(data.get("not_available", {}))
        for key in ("skipped", "not_run", "errors"):
            out[key] += data.get(key, [])
        sel = data.get("selection", {})
        if sel.get("protocol") and sel["protocol"] not in protocols:
            protocols.append(sel["protocol"])
        validation.update(sel.get("validation_scores") or {})
    out["selection"] = {"protocol": " | ".join(protocols) or "merged part-JSONs (no protocol recorded)",
                        "validation_scores": validation}
    out["quick"] = any(r["quick"] for r in out["runs"])
    return out
