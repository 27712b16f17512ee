"""`tfx-e2e explain` on small real exported models (tests/unit/explain_models.py): explain_head(explain_embed(rows))
serves like serving_default; integrated gradients are complete within the stated tolerance; categorical and
bucketized columns are summed back to their raw names; old models and forests are refused."""

from __future__ import annotations

import numpy as np
import pytest

from tests.unit import explain_models as M

import tensorflow as tf  # noqa: E402  (after trainer_module, via explain_models)

from pipeline.config.schema import ConfigError
from pipeline.explain import saliency
from pipeline.explain.explain import explain
from trainer_module import explain_export as X
from trainer_module.serving_contract import INPUT_KEY, PROBABILITIES, SERVING_SIGNATURE


@pytest.fixture(scope="module")
def tabular_transform(tmp_path_factory):
    """One Transform output for every tabular test: analysing with Beam is the slow part."""
    return M.write_transform(M.tabular_rows(), M.tabular_spec(), M.TABULAR_CONFIG,
                             tmp_path_factory.mktemp("explain_transform") / "transform")


@pytest.fixture(scope="module")
def tabular(tmp_path_factory, tabular_transform):
    root = tmp_path_factory.mktemp("explain_dnn")
    rows = M.tabular_rows()
    model_dir = M.train_and_export(rows, M.tabular_spec(), M.TABULAR_CONFIG, root, {"hidden_units": [16, 8]},
                                   tft_output=tabular_transform)
    served = [{k: v for k, v in r.items() if k != "sold"} for r in rows[:12]]
    csv_path = M.write_rows_csv(rows[:12], root / "rows.csv")
    return model_dir, served, csv_path


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    root = tmp_path_factory.mktemp("explain_cnn")
    rows = M.image_rows()
    hparams = {"filters": [8], "dense_units": 16, "dropout": 0.0}
    model_dir = M.train_and_export(rows, M.image_spec(), M.IMAGE_CONFIG, root, hparams, epochs=10)
    return model_dir, M.write_rows_csv(rows[:6], root / "rows.csv")


def test_explain_head_of_explain_embed_serves_like_serving_default(tabular):
    model_dir, rows, _ = tabular
    loaded = tf.saved_model.load(str(model_dir))
    spec = {k: v for k, v in M.tabular_spec().items() if k != "sold"}
    examples = tf.constant([M.serialize(r, spec) for r in rows])
    points = getattr(loaded, X.EMBED)(examples)
    assert set(points) == {"price_xf", "x_xf", "rooms_xf|rooms_xf_embedding", "rooms_xf|rooms_xf_one_hot",
                           "city_xf|city_xf_embedding", "city_xf|city_xf_one_hot", "lat_xf|lat_xf_embedding",
                           "lat_xf|lat_xf_one_hot"}
    served = loaded.signatures[SERVING_SIGNATURE](**{INPUT_KEY: examples})[PROBABILITIES]
    np.testing.assert_allclose(getattr(loaded, X.HEAD)(points).numpy(), served.numpy(), rtol=1e-5, atol=1e-6)


def test_attributions_are_complete_and_summed_to_raw_columns(tabular):
    model_dir, rows, csv_path = tabular
    result = explain(str(model_dir), csv_path, home=csv_path.parent)
    assert result.output == PROBABILITIES and len(result.rows) == len(rows)
    for row in result.rows:
        # every raw column once: categorical (city, rooms) and bucketized (lat) ones summed over their embedding
        # and one-hot points, under their raw names
        assert sorted(c for c, _ in row.attributions) == ["city", "lat", "price", "rooms", "x"]
        assert [abs(a) for _, a in row.attributions] == sorted((abs(a) for _, a in row.attributions), reverse=True)
        delta = row.prediction - row.baseline
        assert row.gap == pytest.approx(abs(row.total - delta), abs=1e-6)
        assert row.allowed == pytest.approx(0.01 * abs(delta) + 1e-3)
        assert row.holds, (row.row, row.gap, row.allowed)
    deltas = [abs(r.prediction - r.baseline) for r in result.rows]
    assert max(deltas) > 0.05  # a trained model: there is something to attribute
    # (which features rank first is tested on the two-feature run, tests/e2e/test_explain.py: 12 rows of this
    # small unseeded model are not enough to rank them reliably)


def test_cnn_attributions_are_complete_per_pixel_and_make_a_saliency_picture(image, tmp_path):
    model_dir, csv_path = image
    result = explain(str(model_dir), csv_path, home=tmp_path)
    assert [c for c, _ in result.rows[0].attributions] == ["pixels"]
    for row in result.rows:
        assert row.target_class is not None and row.holds, (row.row, row.gap, row.allowed)
        assert row.elements["pixels"].shape == (M.SIDE * M.SIDE,)
        assert row.elements["pixels"].sum() == pytest.approx(row.total, abs=1e-5)
    written = saliency.write(result, tmp_path / "png")
    assert [p.name for p in written] == [f"row-{i:04d}.png" for i in range(1, 7)]
    picture = tf.io.decode_png(written[0].read_bytes()).numpy()
    side = M.SIDE * saliency.SCALE
    assert picture.shape == (side, 2 * side + saliency.GAP, 3)
    heat = picture[:, side + saliency.GAP:, 1]  # green falls from 255 (no attribution) to 0 (the largest)
    assert heat.min() == 0 and heat.max() > heat.min()


def test_saliency_is_refused_for_a_tabular_model(tabular):
    model_dir, _, csv_path = tabular
    result = explain(str(model_dir), csv_path, home=csv_path.parent)
    with pytest.raises(ConfigError, match="saliency pictures are for image models"):
        saliency.require_image(result)


def test_a_model_exported_before_explain_is_refused(tmp_path, tabular_transform):
    rows = M.tabular_rows(60)
    model_dir = M.train_and_export(rows, M.tabular_spec(), M.TABULAR_CONFIG, tmp_path, {"hidden_units": [4]},
                                   explain=False, epochs=1, tft_output=tabular_transform)
    with pytest.raises(ConfigError, match=r"exported before `tfx-e2e explain` existed; re-train"):
        explain(str(model_dir), M.write_rows_csv(rows[:2], tmp_path / "rows.csv"), home=tmp_path)


def test_a_forest_is_refused_with_a_pointer_to_permutation_importance(tmp_path, tabular_transform):
    from trainer_module import export, models
    from trainer_module import features as F
    from trainer_module.gbt_training import Forest

    rows = M.tabular_rows(120)
    config = {**M.TABULAR_CONFIG, "model": {"family": "gbt"}}
    tft_output = tabular_transform  # the same analysis: preprocessing ignores model.family
    spec = F.model_spec(tft_output, config)
    trees = models.build("gbt", spec, {"num_trees": 5, "validation_ratio": 0.0, "early_stopping": "NONE"})
    transformed = tft_output.transform_features_layer()(
        tf.io.parse_example(tf.constant([M.serialize(r, M.tabular_spec()) for r in rows]), M.tabular_spec()))
    inputs = {f.name: tf.reshape(transformed[f.name], [-1]) for f in spec.inputs}
    trees.fit(tf.data.Dataset.from_tensor_slices((inputs, transformed["sold_xf"])).batch(64), verbose=0)
    forest = Forest(trees, spec)
    export.export(forest, str(tmp_path / "model"), export.serving_signatures(forest, tft_output, config, spec))
    with pytest.raises(ConfigError, match="gradient-boosted tree forest.*permutation importance"):
        explain(str(tmp_path / "model"), M.write_rows_csv(rows[:2], tmp_path / "rows.csv"), home=tmp_path)
