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
pipe = Pipeline([("resample", Resampler()), ("concat", ModalityConcatenator()),
                 ("model", CrossDomainRegressor(hidden_size=4, num_heads=2, fc_size=4,
                                                num_layers=1, max_epochs=2,
                                                random_state=0))])
pipe.fit(data.recordings[:4], data.targets[:4])
new = make_impression(3, 2, 4, random_state=1)
adapt_pipeline(pipe, *head_seconds(new.recordings[4:], new.targets[4:], 2),
               context=new.recordings[4:])
save_model(pipe, "model_v0_1_0.safetensors")
joblib.dump(pipe, "model_v0_1_0.joblib")
pred = pipe.predict(new.recordings)
np.savez("model_v0_1_0_predictions.npz", *pred)
print(pipe[-1].listener_ids_, [p.shape for p in pred])
