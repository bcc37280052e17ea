"""placeholder"""


class FeatureCache:
    pass
