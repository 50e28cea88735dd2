"""Everything one benchmark run measured, handed from the phases to the report."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from polyshop_dev.bench.procs import Footprint
from polyshop_dev.bench.registry import RegistryResult
from polyshop_dev.bench.saga import Phase
from polyshop_dev.bench.startup import Start


@dataclass
class Results:
    began: datetime
    loadavg: tuple[float, float, float]
    starts: list[Start] = field(default_factory=list)
    startup_skipped: str = ""
    phases: list[Phase] = field(default_factory=list)
    memory: list[Footprint] = field(default_factory=list)  # the bench shop, after the load
    registry: RegistryResult | None = None
    seconds: float = 0.0  # how long the whole benchmark took

    def phase(self, name: str) -> Phase:
        return next(phase for phase in self.phases if phase.name == name)
