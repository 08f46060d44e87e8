"""The automatic differentiation engine of the course (it imports nothing from ad_course).

Read it in this order: rules.py (registering a primitive), numpy_rules.py (the
table), dispatch.py (how x * y or np.sin(x) reaches a primitive), forward.py
(Dual), reverse.py (Variable and the backward sweep), higher_order.py,
numerical.py, nn.py, optim.py.
"""
