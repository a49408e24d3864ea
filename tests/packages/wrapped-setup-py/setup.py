from setuptools import find_packages, setup

setup(
    name="simple-pkg",
    version="1.0.0",
    description="A test project for hatch-attest's wrapper backend, with a setup.py",
    package_dir={"": "src"},
    packages=find_packages("src"),
    python_requires=">=3.9",
)
