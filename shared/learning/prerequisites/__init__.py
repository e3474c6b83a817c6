"""Prerequisites: a program, WOD or BLOCK requires others at a completion threshold; locked until met."""
