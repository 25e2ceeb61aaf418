"""A realistic population of learners at scale (`jixu seed --learners N`): organisations,
plans activated, courses bought and watched, exams taken, orders paid and refunded —
the same rows for the same seed, written with COPY."""
