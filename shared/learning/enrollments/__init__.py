"""Enrollments: a learner in a program, self-enrolled or assigned; capacity and deadline held by the database."""
