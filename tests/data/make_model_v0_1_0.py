"""Writes the model files of ``test_a_model_file_of_release_0_1_0_...``.

Run with release 0.1.0 on the path (commit ebb5839), from ``tests/data``::

    PYTHONPATH=/path/to/0.1.0-checkout python make_model_v0_1_0.py

A tiny pipeline fitted on four recordings, with receiver 2 enrolled on 2 s,
saved as safetensors and joblib, and its predictions of the six recordings of
``make_impression(3, 2, 4, random_state=1)``.
"""


def main():
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
    save_model(pipe, "model_v0_1_0.safetensors")
    joblib.dump(pipe, "model_v0_1_0.joblib")
    pred = pipe.predict(new.recordings)
    np.savez("model_v0_1_0_predictions.npz", *pred)
    print(pipe[-1].listener_ids_, [p.shape for p in pred])


if __name__ == "__main__":
    main()
