"""Recommendations: similar (vectors + MMR), complementary (baskets, or the catalog's structure), personal, trending.

Example:
    >>> from storebot.insights.recommend import Recommender                    # doctest: +SKIP
    >>> services.recommender("demo").product("similar", "1001").ids            # doctest: +SKIP
"""

from storebot.insights.recommend.cache import (
    KINDS,
    PRODUCT_KINDS,
    SESSION_KINDS,
    Pick,
    Recommendation,
    RecommendationCache,
)
from storebot.insights.recommend.complementary import ComplementaryFinder
from storebot.insights.recommend.engine import RecommendationSettings, Recommender
from storebot.insights.recommend.event_refresh import EventRefreshQueue
from storebot.insights.recommend.similar import SimilarFinder

__all__ = [
    "KINDS", "PRODUCT_KINDS", "SESSION_KINDS", "ComplementaryFinder", "EventRefreshQueue", "Pick", "Recommendation",
    "RecommendationCache", "RecommendationSettings", "Recommender", "SimilarFinder",
]  # fmt: skip
