"""Pure array kernels: codings, likelihoods, gradients. No I/O, no state, rng passed in."""

from offerlab.numerics._coding import (
    Scheme,
    code_levels,
    level_coding_matrix,
    partworths_from_coded,
)

__all__ = ["Scheme", "code_levels", "level_coding_matrix", "partworths_from_coded"]

from offerlab.numerics._mnl import (
    MNLTerms,
    mnl_loglike,
    mnl_null_loglike,
    mnl_probabilities,
)

__all__ += ["MNLTerms", "mnl_loglike", "mnl_null_loglike", "mnl_probabilities"]
