"""Shared, tested helpers of the automatic differentiation course.

The sections follow the order of the lecture notebooks:

1. plotting style and shared utilities          (notebook 01)
2. symbolic differentiation and expression size  (notebook 02)
3. finite differences                             (notebook 03)
4. forward mode: dual numbers                     (notebook 04)
5. reverse mode: the computational graph          (notebook 05)
6. neural networks and the Ising model            (notebook 06)
7. beyond first derivatives                       (notebook 07)
"""

from __future__ import annotations

import numpy as np

# =============================================================================
# 1. Plotting style and shared utilities (notebook 01)
# =============================================================================

# -- end of section 1 --

# =============================================================================
# 2. Symbolic differentiation and expression size (notebook 02)
# =============================================================================

# -- end of section 2 --

# =============================================================================
# 3. Finite differences (notebook 03)
# =============================================================================

# -- end of section 3 --

# =============================================================================
# 4. Forward mode: dual numbers (notebook 04)
# =============================================================================

# -- end of section 4 --

# =============================================================================
# 5. Reverse mode: the computational graph (notebook 05)
# =============================================================================

# -- end of section 5 --

# =============================================================================
# 6. Neural networks and the Ising model (notebook 06)
# =============================================================================

# -- end of section 6 --

# =============================================================================
# 7. Beyond first derivatives (notebook 07)
# =============================================================================

# -- end of section 7 --
