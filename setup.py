"""Packaging for ryu-midonet."""

from setuptools import find_packages, setup

setup(
    name="ryu-midonet",
    version="0.1.0",
    description=(
        "MidoNet-class network virtualization controller built as OpenFlow 1.3 "
        "applications on os-ken"
    ),
    license="Apache-2.0",
    python_requires=">=3.11",
    packages=find_packages(exclude=["tests", "tests.*"]),
    include_package_data=True,
    install_requires=[
        "os-ken==4.2.2",
        "oslo.config==10.7.0",
        "redis==8.1.0",
        "webob==1.8.11",
        "ovsdbapp==3.0.0",
        "eventlet==0.41.3",
        "PyYAML==6.0.3",
        "jsonschema==4.26.0",
        "waitress==3.0.2",
    ],
    extras_require={
        "test": [
            "pytest==9.2.0",
            "pytest-xdist==3.8.0",
            "hypothesis==6.170.27",
            "httplib2==0.32.1",
            "ruff==0.17.5",
            "openapi-spec-validator==0.9.0",
            "schemathesis==4.32.5",
            "import-linter==2.17",
            "mypy==2.4.1",
        ],
    },
    entry_points={
        "console_scripts": [
            "ryu-midonet-manager = ryu_midonet.cmd.manager:main",
            "midonet-cli = ryu_midonet.cli.main:main",
            "ryu-midonet-sandbox = ryu_midonet.sandbox.cli:main",
            "ryu-midonet-users = ryu_midonet.cmd.users:main",
            "ryu-midonet-trace = ryu_midonet.cmd.trace:main",
            "mm-trace = ryu_midonet.cmd.mmtrace:main",
        ],
        "oslo.config.opts": [
            "ryu_midonet = ryu_midonet.config:list_opts",
        ],
    },
    classifiers=[
        "Programming Language :: Python :: 3",
        "Programming Language :: Python :: 3.11",
        "Topic :: System :: Networking",
        "License :: OSI Approved :: Apache Software License",
    ],
)
