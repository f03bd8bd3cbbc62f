"""The questions users ask of races, each replaying a scenario with one thing changed:

- :mod:`.counterfactual`: what they share (the one-line error, a rider's signed margin);
- :mod:`.catch`: when would the hesitating field have caught the attacker;
- :mod:`.variants`: early attack versus late sprint, the attack-point sweep;
- :mod:`.bands`: the same questions over races drawn from ``[uncertainty]``;
- :mod:`.sensitivity`: what an answer hangs on (Sobol, Morris; SALib);
- :mod:`.scorecard`: the model against real finals.
"""
