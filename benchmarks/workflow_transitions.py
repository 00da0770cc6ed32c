"""State transitions per second of lakebox's ASL interpreter.

Two shapes: a chain of Pass states (the interpreter's per-state overhead, history
included) and a Map over many items whose iterations are two Pass states each. Everything
runs in a temporary lake with the real SQLite history store.

    python benchmarks/workflow_transitions.py [--states 2000] [--items 2000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

from lakebox.config import LakeConfig
from lakebox.workflows.service import WorkflowService


def pass_chain(n: int) -> dict[str, Any]:
    states: dict[str, Any] = {}
    for i in range(n):
        state: dict[str, Any] = {
            "Type": "Pass",
            "Parameters": {"i": i, "prev.$": "$.i"},
            "ResultPath": "$",
        }
        if i + 1 < n:
            state["Next"] = f"S{i + 1}"
        else:
            state["End"] = True
        states[f"S{i}"] = state
    return {"StartAt": "S0", "States": states}


def map_machine(concurrency: int) -> dict[str, Any]:
    return {
        "StartAt": "M",
        "States": {
            "M": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "MaxConcurrency": concurrency,
                "ItemSelector": {"v.$": "$$.Map.Item.Value", "i.$": "$$.Map.Item.Index"},
                "ItemProcessor": {
                    "StartAt": "A",
                    "States": {
                        "A": {
                            "Type": "Pass",
                            "Parameters": {"x.$": "States.MathAdd($.v, 1)"},
                            "Next": "B",
                        },
                        "B": {"Type": "Pass", "End": True},
                    },
                },
                "ResultPath": "$.out",
                "OutputPath": "$.out",
                "End": True,
            }
        },
    }


def measure(
    service: WorkflowService,
    name: str,
    definition: dict[str, Any],
    data: Any,
    transitions: int,
    repeat: int,
) -> float:
    service.create_state_machine(name, definition)
    best = 0.0
    for _ in range(repeat):
        started = time.perf_counter()
        execution = service.start_execution(name, data)
        elapsed = time.perf_counter() - started
        assert execution.status == "SUCCEEDED", execution.cause
        best = max(best, transitions / elapsed)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--states", type=int, default=2000, help="Pass states in the chain")
    parser.add_argument("--items", type=int, default=2000, help="Map items")
    parser.add_argument("--repeat", type=int, default=3, help="runs per shape (best counts)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        service = WorkflowService(LakeConfig(home=Path(tmp)))
        chain = measure(
            service, "chain", pass_chain(args.states), {"i": -1}, args.states, args.repeat
        )
        print(f"pass chain   {args.states:>6} states        {chain:>10,.0f} transitions/s")
        items = {"items": list(range(args.items))}
        for concurrency in (1, 0):
            label = "sequential" if concurrency == 1 else "concurrent"
            rate = measure(
                service,
                f"map{concurrency}",
                map_machine(concurrency),
                items,
                2 * args.items + 1,
                args.repeat,
            )
            print(f"map {label} {args.items:>6} items x 2 states {rate:>10,.0f} transitions/s")
        service.close()


if __name__ == "__main__":
    main()
