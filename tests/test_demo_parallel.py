"""The demo's fits in parallel processes give the table of a sequential run."""

import pytest

pytest.importorskip("torch")

from sklearn_impression.experiments import run_demo  # noqa: E402

TINY = {"hidden_size": 4, "num_heads": 2, "num_layers": 1, "fc_size": 4}


def test_demo_results_do_not_depend_on_the_number_of_processes(tmp_path, capsys):
    kwargs = dict(n_receivers=3, n_stimuli=2, duration=4.0, n_splits=3,
                  enrol_seconds=2.0, epochs=1,
                  model_params=TINY)
    one = run_demo(tmp_path / "one", n_jobs=1, verbose=0, **kwargs)
    two = run_demo(tmp_path / "two", n_jobs=2, verbose=1, **kwargs)
    assert one["table"] == two["table"]
    assert two["n_jobs"] == 2 and one["n_jobs"] == 1
    for key, result in one["results"].items():
        other = two["results"][key]
        for field in ("ccc", "ccc_fold_mean", "fold_ccc", "receiver_ccc",
                      "protocol_description"):
            assert result[field] == other[field], (key, field)
        n_folds = 1 if "paper" in key else 2 if "receivers+stimuli" in key else 3
        assert len(result["folds"]) == n_folds
    err = capsys.readouterr().err
    # one progress line per fit, each naming its protocol (and fold)
    assert "CrossDomainRegressor, receivers fold 3/3: fit" in err
    assert "CrossDomainRegressor, paper: fit" in err
    assert "CrossDomainRegressor, receivers+stimuli fold 2/2: fit" in err
    assert "Ridge, receivers: fit" in err
