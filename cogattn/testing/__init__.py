"""Testing helpers shipped with cogattn: the check suite every model and estimator passes."""
