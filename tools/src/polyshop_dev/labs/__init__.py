"""The workshop's labs (labs/NN-name/): where a running shop is, and the
graders that check a learner's work against it.

`make lab-01-check` runs `python -m polyshop_dev.labs check 01`: it loads
labs/01-*/grader.py, hands its `grade(shop, check)` the running shop
(polyshop_dev.labs.where, from the file `make up` writes) and a `Grade`
(polyshop_dev.labs.grading) that collects what is done and what is missing,
and prints it. A lab's reference solution is in its `solution/` folder.
"""

from polyshop_dev.labs.grading import Grade
from polyshop_dev.labs.where import ShopAddress

__all__ = ["Grade", "ShopAddress"]
