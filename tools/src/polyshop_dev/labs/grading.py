"""What a grader found: each expectation with whether it holds, and for one
that does not, what to look at."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Expectation:
    what: str
    met: bool
    hint: str = ""


@dataclass
class Grade:
    lab: str
    expectations: list[Expectation] = field(default_factory=list)

    def that(self, met: bool, what: str, hint: str = "") -> bool:
        """Record one expectation; returns whether it holds, so a grader can
        skip what cannot hold without it."""
        self.expectations.append(Expectation(what, bool(met), hint))
        return bool(met)

    @property
    def passed(self) -> bool:
        return bool(self.expectations) and all(e.met for e in self.expectations)

    def missing(self) -> list[Expectation]:
        return [e for e in self.expectations if not e.met]

    def report(self) -> str:
        done = sum(e.met for e in self.expectations)
        lines = [f"{self.lab}: {done} of {len(self.expectations)} done"]
        for each in self.expectations:
            lines.append(f"  {'ok  ' if each.met else 'TODO'} {each.what}")
            if not each.met and each.hint:
                lines.append(f"       hint: {each.hint}")
        lines.append("  all done: well done!" if self.passed else "  not done yet")
        return "\n".join(lines)
