"""TrainConfig validation and conversions."""

import pytest

from lstmkit.train import TrainConfig


@pytest.mark.parametrize(
    "field, value, expected",
    [
        ("max_epochs", 0, "an int >= 1"),
        ("max_steps", 0, "an int >= 1 or -1 \\(no limit\\)"),
        ("lr", -1.0, "a float > 0"),
        ("schedule", "exp", "one of"),
        ("gradient_clip_val", 0.0, "a float > 0 or None"),
        ("devices", 0, "an int >= 1"),
        ("strategy", "fsdp", "one of"),
        ("precision", "8", "one of"),
        ("monitor_mode", "up", "one of"),
        ("early_stopping_patience", -1, "an int >= 0 or None"),
        ("resume", "somewhere", "None, 'last' or a path ending in .ckpt"),
    ],
)
def test_bad_values_name_the_field(field, value, expected):
    with pytest.raises(ValueError, match=f"TrainConfig.{field}: expected {expected}"):
        TrainConfig(**{field: value})


def test_resume_last_needs_run_dir():
    with pytest.raises(ValueError, match="run_dir"):
        TrainConfig(resume="last")


def test_dict_round_trip_and_unknown_keys():
    config = TrainConfig(max_epochs=3, lr=0.01, schedule="cosine")
    assert TrainConfig.from_dict(config.to_dict()) == config
    assert config.replace(lr=0.1).lr == 0.1
    with pytest.raises(ValueError, match=r"unknown field\(s\) \['epochs'\]"):
        TrainConfig.from_dict({"epochs": 3})


def test_frozen():
    with pytest.raises(AttributeError):
        TrainConfig().lr = 1.0  # type: ignore[misc]


@pytest.mark.parametrize("field", ["lr", "weight_decay", "min_lr_ratio", "plateau_factor", "gradient_clip_val",
                                   "early_stopping_min_delta"])
@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan")])
def test_non_finite_knobs_are_refused_on_construction(field, value):
    with pytest.raises(ValueError, match=f"TrainConfig.{field}: expected a finite number"):
        TrainConfig(**{field: value})
