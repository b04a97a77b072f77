#!/usr/bin/env python3
"""A random-weight TorchScript CNN with the Inception signature of EDM/StyleGAN3's inception-2015-12-05.pt
(forward(img: uint8 [N,3,H,W], return_features: bool=False)) and a ResNet-18-shaped trunk at 128x128 (512-d features),
for bench/AmbientDiffusion.Bench.Features. Debian's PyTorch has no torchvision, so the trunk is written out here.

    /usr/bin/python3 bench/AmbientDiffusion.Bench.Features/make_model.py bench/results/resnet_like.pt
"""
import sys

import torch
import torch.nn.functional as F


class Block(torch.nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = torch.nn.BatchNorm2d(cout)
        self.conv2 = torch.nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = torch.nn.BatchNorm2d(cout)
        self.skip = torch.nn.Sequential()
        if stride != 1 or cin != cout:
            self.skip = torch.nn.Sequential(torch.nn.Conv2d(cin, cout, 1, stride, bias=False), torch.nn.BatchNorm2d(cout))

    def forward(self, x):
        return F.relu(self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x))))) + self.skip(x))


class ResNetLike(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = torch.nn.Sequential(torch.nn.Conv2d(3, 64, 7, 2, 3, bias=False), torch.nn.BatchNorm2d(64),
                                        torch.nn.ReLU(), torch.nn.MaxPool2d(3, 2, 1))
        layers, cin = [], 64
        for cout, stride in ((64, 1), (64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1)):
            layers.append(Block(cin, cout, stride))
            cin = cout
        self.layers = torch.nn.Sequential(*layers)
        self.fc = torch.nn.Linear(512, 1000)

    def forward(self, img: torch.Tensor, return_features: bool = False) -> torch.Tensor:
        x = F.interpolate(img.to(torch.float32), size=(128, 128), mode="bilinear", align_corners=False)
        features = self.layers(self.stem((x - 128) / 128)).mean(dim=[2, 3])
        return features if return_features else self.fc(features)


if __name__ == "__main__":
    torch.manual_seed(0)
    torch.jit.save(torch.jit.script(ResNetLike().eval()), sys.argv[1])
