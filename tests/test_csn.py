"""Cross-sensor normalization: BatchNorm's values for one domain, each domain's own statistics for a mixed
batch, the source statistics for a target never trained on, and the conversion of real networks."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from landslides import csn
from landslides.errors import InputError
from landslides.models import build_model
from landslides.runs import load_model, save_model
from landslides.train import Split, fit, predict, train_one_epoch


def _batchnorm(channels: int = 5, seed: int = 0) -> nn.BatchNorm2d:
    torch.manual_seed(seed)
    bn = nn.BatchNorm2d(channels)
    with torch.no_grad():  # not the identity affine, and statistics away from 0 / 1
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-1, 1)
        bn.running_mean.uniform_(-1, 1)
        bn.running_var.uniform_(0.5, 2)
    return bn


def test_one_domain_is_batchnorm_bit_for_bit():
    bn = _batchnorm()
    layer = csn.CrossSensorNorm2d.from_batchnorm(bn)
    x = torch.randn(6, 5, 7, 7)
    for domain in (csn.SOURCE, csn.TARGET):
        bn_d, layer_d = _batchnorm(), csn.CrossSensorNorm2d.from_batchnorm(_batchnorm())
        csn.set_train_mixed([layer_d], len(x) if domain == csn.SOURCE else 0)
        a, b = x.clone().requires_grad_(), x.clone().requires_grad_()
        y_bn, y_csn = bn_d.train()(a), layer_d.train()(b)
        assert torch.equal(y_bn, y_csn)
        y_bn.square().sum().backward()
        y_csn.square().sum().backward()
        assert torch.equal(a.grad, b.grad) and torch.equal(bn_d.weight.grad, layer_d.weight.grad)
        # only the batch's domain moved its running statistics
        assert torch.equal(layer_d.running_mean[domain], bn_d.running_mean)
        assert torch.equal(layer_d.running_var[domain], bn_d.running_var)
        assert torch.equal(layer_d.running_mean[1 - domain], bn.running_mean)
        assert bool(layer_d.target_seen) == (domain == csn.TARGET)
    assert torch.equal(layer.eval()(x), bn.eval()(x))  # eval on the source statistics


@pytest.mark.parametrize("n_source", [0, 3, 7])
def test_mixed_batch_uses_each_domains_own_statistics(n_source):
    bn = _batchnorm()
    layer = csn.CrossSensorNorm2d.from_batchnorm(bn).train()
    csn.set_train_mixed([layer], n_source)
    x = torch.randn(7, 5, 6, 6, requires_grad=True)
    y = layer(x)
    mean = bn.running_mean.expand(2, -1).clone()
    var = bn.running_var.expand(2, -1).clone()
    parts = [F.batch_norm(part, mean[d], var[d], bn.weight, bn.bias, True, bn.momentum, bn.eps)
             for d, part in enumerate((x[:n_source], x[n_source:])) if len(part)]
    expected = torch.cat(parts)
    assert torch.equal(y, expected)
    assert torch.equal(layer.running_mean, mean) and torch.equal(layer.running_var, var)
    grad, expected_grad = (torch.autograd.grad(out.square().sum(), x)[0] for out in (y, expected))
    assert torch.equal(grad, expected_grad)
    assert bool(layer.target_seen) == (n_source < 7) and int(layer.num_batches_tracked) == 1
    if n_source == 7:  # a batch without target samples leaves the target's statistics alone
        assert torch.equal(layer.running_mean[csn.TARGET], bn.running_mean)


def test_source_first_orders_each_batch():
    domain = torch.tensor([1, 0, 1, 0, 0, 1, 1])
    batches, n_source = csn.source_first([torch.tensor([0, 1, 2, 3]), torch.tensor([6, 4, 5])], domain)
    assert [b.tolist() for b in batches] == [[1, 3, 0, 2], [4, 6, 5]] and n_source == [2, 1]


def test_evaluation_on_the_target_uses_its_statistics_once_trained_on():
    layer = csn.CrossSensorNorm2d.from_batchnorm(_batchnorm())
    x = torch.randn(3, 5, 4, 4)
    layer.eval()
    source_out = layer(x)
    layer.eval_domain = csn.TARGET
    assert torch.equal(layer(x), source_out)  # never trained on target samples: the source statistics
    csn.set_train_mixed([layer.train()], 0)  # a target-only batch
    layer(torch.randn(8, 5, 4, 4) * 4 + 3)  # target features far from the source's
    layer.eval()
    assert not torch.allclose(layer(x), source_out)
    with pytest.raises(ValueError, match="domain"):
        csn.set_eval_domain(nn.Sequential(layer), 2)


def test_batchnorm_act_keeps_its_activation():
    from timm.layers import BatchNormAct2d

    bn_act = BatchNormAct2d(5, act_layer=nn.ReLU)
    with torch.no_grad():
        bn_act.bias.fill_(-0.5)
    converted = csn.convert(nn.Sequential(bn_act))[0]
    assert isinstance(converted, csn.CrossSensorNorm2d) and isinstance(converted.act, nn.ReLU)
    x = torch.randn(4, 5, 6, 6)
    assert torch.equal(converted.train()(x), bn_act.train()(x))
    assert (converted(x) == 0).any()  # the ReLU ran


def test_network_conversion_and_model_file(tmp_path):
    spec = {"kind": "segmentation", "arch": "unet", "encoder": "resnet18", "in_channels": 3, "classes": 2,
            "encoder_depth": 3, "decoder_channels": [8, 8, 8], "scale": 1.0, "input_size": None}
    torch.manual_seed(0)
    plain = build_model(spec)
    torch.manual_seed(0)
    converted = build_model(dict(spec, csn=True))
    n_bn = sum(isinstance(m, nn.BatchNorm2d) for m in plain.modules())
    assert len(csn.layers(converted)) == n_bn > 0
    assert not any(isinstance(m, nn.BatchNorm2d) for m in converted.modules())
    x = torch.randn(2, 3, 32, 32)
    assert torch.equal(converted.eval()(x), plain.eval()(x))  # same weights, same statistics

    # Train on mixed domains, save, load: the file rebuilds the layers and evaluates new data as target.
    converted.train()
    csn.set_train_mixed(csn.layers(converted), 2)
    converted(torch.randn(4, 3, 32, 32) + torch.tensor([0.0, 0.0, 2.0, 2.0])[:, None, None, None])
    csn.set_eval_domain(converted, csn.TARGET)
    expected = predict(converted, x, 2, torch.device("cpu"))
    save_model(tmp_path / "model.pt", converted, study="refine", spec=dict(spec, csn=True),
               channels=["a", "b", "c"], normalization={"mode": "separated"}, config={})
    loaded, _ = load_model(tmp_path / "model.pt")
    assert torch.equal(predict(loaded, x, 2, torch.device("cpu")), expected)


def _tiny_csn_setup(n: int = 6):
    spec = {"kind": "segmentation", "arch": "unet", "encoder": "resnet18", "in_channels": 3, "classes": 2,
            "encoder_depth": 3, "decoder_channels": [8, 8, 8], "scale": 1.0, "input_size": None, "csn": True}
    torch.manual_seed(0)
    model = build_model(spec)
    images = torch.randn(n, 3, 32, 32)
    domain = torch.tensor([0, 1] * (n // 2))  # interleaved: batches mix the domains
    images[domain == 1] += 3.0  # the target from another distribution
    return model, Split(images, (torch.rand(n, 32, 32) < 0.2).long(), domain)


def test_training_loop_gives_each_sample_its_domain():
    model, train = _tiny_csn_setup()
    first = csn.layers(model)[0]
    before = first.running_mean.clone()
    cfg = {"batch_size": 3, "epochs": 1}
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    train_one_epoch(model, train, cfg, 0, 0, lambda logits, t: F.cross_entropy(logits, t), optimizer,
                    torch.device("cpu"), None)
    assert bool(first.target_seen)
    # both domains moved, the target's towards its larger mean
    assert not torch.equal(first.running_mean[0], before[0]) and not torch.equal(first.running_mean[1], before[1])


def test_compile_with_mixed_domains_is_refused(tmp_path):
    model, train = _tiny_csn_setup()
    cfg = {"epochs": 1, "batch_size": 3, "eval_batch_size": 6, "compile": True, "optimizer": "adam", "lr": 1e-3,
           "weight_decay": 0, "scheduler": None, "selection_metric": "auprc"}
    with pytest.raises(InputError, match="cross-sensor"):
        fit(model, train, Split(train.images, train.target), cfg, checkpoint=tmp_path / "state.pt",
            history_path=tmp_path / "history.csv", seed=0, loss_fn=F.cross_entropy, device=torch.device("cpu"))
    assert not (tmp_path / "history.csv").exists()
