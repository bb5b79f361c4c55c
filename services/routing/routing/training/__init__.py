"""Building and measuring the classifier from the project's own labelled corpus
(services/routing/data/corpus): `python -m routing.training.build` (`make model`) and
`python -m routing.training.evaluate` (`make eval`)."""
