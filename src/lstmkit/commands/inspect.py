"""``lstmkit inspect MODEL_DIR --data FILE --out report.html``: the interactive gate and attention view.

    lstmkit inspect model/ --data texts.csv --out report.html
    lstmkit inspect model/ --data series.csv --out report.html --max-sequences 4 --serve

Writes one self-contained HTML file (script, style and data inlined; no
network, no server) showing, per input sequence, the tokens or time steps
coloured by a chosen unit's gate, the units x steps heat map, cell-state
trajectories, pattern search over a selected span, gate saturation, the
attention matrix (translate) and, for forecast / detect / seqclass, the
series with its forecast or score above the gate traces. ``--data`` is what
the task's ``predict`` reads. ``--serve`` also serves the file on
127.0.0.1 until Ctrl-C.
"""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    from lstmkit.commands._common import add_parser

    parser = add_parser(subparsers, "inspect", help="write an interactive HTML view of a model's gates and attention",
                        description=__doc__.splitlines()[0], func=run)
    parser.add_argument("model", metavar="MODEL_DIR", help="a directory written by any task's 'fit'")
    parser.add_argument("--data", required=True,
                        help="input the task's predict reads (texts, CoNLL, sentences, series, music)")
    parser.add_argument("--out", required=True, help="HTML file to write")
    parser.add_argument("--max-sequences", type=int, default=8, help="show at most this many sequences")
    parser.add_argument("--max-steps", type=int, default=400, help="show at most this many steps per sequence")
    parser.add_argument("--title", help="page title (default: task and model directory)")
    parser.add_argument("--serve", action="store_true", help="also serve the page on 127.0.0.1 until Ctrl-C")
    parser.add_argument("--port", type=int, default=0, help="port for --serve (0: any free port)")


def run(args: argparse.Namespace) -> int:
    from lstmkit.inspect.viewer import view

    page = view(args.model, args.data, max_sequences=args.max_sequences, max_steps=args.max_steps,
                title=args.title)
    path = page.save(args.out)
    meta = page.payload["meta"]
    print(f"inspect: {meta['task']} model '{args.model}', {page.sequences} sequence(s), layers "
          f"{', '.join(meta['layers'])} -> {path}")
    if args.serve:
        from lstmkit.inspect.serve import make_server, url_of

        server = make_server(path, args.port)
        print(f"serving {url_of(server)} (127.0.0.1 only); Ctrl-C to stop", flush=True)
        try:
            server.serve_forever()
        finally:
            server.server_close()
    return 0

