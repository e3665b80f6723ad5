"""The learned layer beside the rules: character n-gram linear classifiers trained on labelled calls.

``features`` turns a call's turns into sparse vectors, ``model`` loads the shipped (or a tenant's)
weights and scores a call, ``combine`` merges the scores with the rules' labels. Training lives in
``training`` and needs scikit-learn (the ``train`` extra); scoring needs numpy only.
"""
