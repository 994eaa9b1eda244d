"""Writes the model files that ``tests/test_persistence.py`` loads as an older
version wrote them.

Run with that version on the path, from ``tests/data``, naming the files with a
tag::

    PYTHONPATH=/path/to/0.1.0-checkout python make_model_file.py v0_1_0
    PYTHONPATH=/path/to/8c95ae1-checkout python make_model_file.py 8c95ae1

``v0_1_0``: release 0.1.0 (commit ebb5839). ``8c95ae1``: the last commit
before the package was reorganised into subpackages (its joblib file names the
old module paths).

A tiny pipeline fitted on four recordings, with receiver 2 enrolled on 2 s,
saved as safetensors and joblib, and its predictions of the six recordings of
``make_impression(3, 2, 4, random_state=1)``.
"""


def main(tag):
    import joblib
    import numpy as np
    from sklearn.pipeline import Pipeline

    from sklearn_impression import (
        CrossDomainRegressor,
        ModalityConcatenator,
        Resampler,
        make_impression,
        save_model,
    )
    from sklearn_impression.model_selection import adapt_pipeline, head_seconds

    data = make_impression(3, 2, 4, random_state=0)
    model = CrossDomainRegressor(hidden_size=4, num_heads=2, fc_size=4, num_layers=1,
                                 max_epochs=2, random_state=0)
    pipe = Pipeline([("resample", Resampler()), ("concat", ModalityConcatenator()),
                     ("model", model)])
    pipe.fit(data.recordings[:4], data.targets[:4])
    new = make_impression(3, 2, 4, random_state=1)
    adapt_pipeline(pipe, *head_seconds(new.recordings[4:], new.targets[4:], 2),
                   context=new.recordings[4:])
    save_model(pipe, f"model_{tag}.safetensors")
    joblib.dump(pipe, f"model_{tag}.joblib")
    pred = pipe.predict(new.recordings)
    np.savez(f"model_{tag}_predictions.npz", *pred)
    print(pipe[-1].listener_ids_, [p.shape for p in pred])


if __name__ == "__main__":
    import sys

    main(sys.argv[1])
