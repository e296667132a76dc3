"""The tuned space as plain functions: it learns what text alone cannot, keeps cold films on
their text, is seeded and is cached by its inputs' content (no warehouse, seconds)."""

import logging

import numpy as np

from assets.tuned import train_cached
from reelreason.evaluation import Case, rank_cases, user_query
from reelreason.taste import normalize
from reelreason.tuning import MIN_STEPS, TuningConfig, train_tuned_space, training_key

CONFIG = TuningConfig(dim=16, epochs=500, max_steps=200, batch=64, seed=5)


def _world(seed=0, films=60, users=160):
    """Random film texts (they say nothing about taste) and two audiences: users of group g
    like films f with f % 2 == g, in a random order. Films 50..59 are liked by nobody."""
    rng = np.random.default_rng(seed)
    base = normalize(rng.standard_normal((films, 24)).astype(np.float32))
    sequences = []
    for u in range(users):
        pool = [f for f in range(50) if f % 2 == u % 2]
        sequences.append(rng.permutation(pool)[:8])
    return base, sequences


def _hit_rate(vectors, sequences):
    cases = [
        Case(str(i), "x", list(s[:-1]), int(s[-1]), set(s[:-1].tolist()))
        for i, s in enumerate(sequences)
    ]
    ranked = rank_cases(cases, lambda c: vectors @ user_query(vectors, c, None, 1.0))
    return float((ranked.ranks <= 10).mean())


def test_the_tuned_space_learns_co_liking_that_the_texts_do_not_carry():
    base, sequences = _world()
    train, held = sequences[:100], sequences[100:]  # 60 users never trained on
    space = train_tuned_space(base, train, (), CONFIG)
    tuned, text_only = _hit_rate(space.film_vectors, held), _hit_rate(base, held)
    # 25 films per audience, 7 seen: the right half of the catalogue puts ~10/18 in the top 10
    assert tuned > 0.4 and tuned > 2 * text_only
    assert space.report["steps"] == 200  # max_steps bounds 500 epochs of 100 users
    assert space.report["last_loss"] < space.report["first_loss"]


def test_cold_films_keep_the_vector_their_text_gives_them():
    base, sequences = _world()
    space = train_tuned_space(base, sequences, (), CONFIG)
    cold = ~space.warm
    assert cold.tolist() == [f >= 50 for f in range(60)]
    assert np.allclose(space.film_vectors[cold], space.map_films(base)[cold], atol=1e-6)
    assert not np.allclose(space.film_vectors[~cold], space.map_films(base)[~cold], atol=1e-3)
    assert np.allclose(np.linalg.norm(space.film_vectors, axis=1), 1, atol=1e-5)


def test_users_words_map_into_the_same_space():
    base, sequences = _world()
    # a user's words are the mean text of what they liked: the text map learns to place them
    texts = [(normalize(base[s].mean(axis=0)), s) for s in sequences[:80]]
    space = train_tuned_space(base, sequences, texts, CONFIG)
    query = space.map_texts(np.stack([t for t, _ in texts[:2]]))
    assert query.shape == (2, CONFIG.dim)
    assert space.report["text_users"] == 80
    group = np.array([f % 2 for f in range(60)])
    scores = query @ space.film_vectors.T
    # each user's words score their own audience's films higher on average
    for user, row in enumerate(scores):
        own = row[(group == user % 2) & space.warm].mean()
        other = row[(group != user % 2) & space.warm].mean()
        assert own > other


def test_a_small_build_still_trains_a_minimum_of_steps():
    base, sequences = _world(users=20)
    one_epoch = TuningConfig(**{**CONFIG.__dict__, "epochs": 1})
    assert train_tuned_space(base, sequences, (), one_epoch).report["steps"] == MIN_STEPS


def test_training_is_seeded_and_bit_identical_run_to_run():
    """At the real sizes (384-d base, 64-d space, words) two threads' scatter-adds summed in
    whatever order they finished: vectors 1e-6 apart, so two builds published different bytes."""
    rng = np.random.default_rng(1)
    base = normalize(rng.standard_normal((60, 384)).astype(np.float32))
    sequences = [rng.integers(0, 60, rng.integers(2, 12)) for _ in range(100)]
    words = [(base[rng.integers(0, 60)], rng.integers(0, 60, 3)) for _ in range(30)]
    config = TuningConfig(max_steps=20, seed=5)
    runs = [train_tuned_space(base, sequences, words, config) for _ in range(3)]
    other = train_tuned_space(base, sequences, words, TuningConfig(max_steps=20, seed=6))
    for run in runs[1:]:
        assert run.film_vectors.tobytes() == runs[0].film_vectors.tobytes()
        assert run.text_adapter.tobytes() == runs[0].text_adapter.tobytes()
    assert not np.allclose(runs[0].film_vectors, other.film_vectors)


def test_an_unchanged_rebuild_finds_its_space_and_any_change_retrains(tmp_path):
    base, sequences = _world()
    log = logging.getLogger("test")
    first, key = train_cached(tmp_path, base, sequences, [], CONFIG, log)
    again, same_key = train_cached(tmp_path, base, sequences, [], CONFIG, log)
    assert key == same_key and not first.report["cached"] and again.report["cached"]
    assert np.array_equal(first.film_vectors, again.film_vectors)
    changed = [s.copy() for s in sequences]
    changed[0][0] = 1 - changed[0][0] % 2 + 2  # one like differs
    assert training_key(base, changed, [], CONFIG) != key
    assert training_key(base * 0.5, sequences, [], CONFIG) != key
    more = TuningConfig(**{**CONFIG.__dict__, "max_steps": 201})
    assert training_key(base, sequences, [], more) != key
