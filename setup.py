"""Packaging of famd: ``pip install .`` then ``twistd famd --config famd.yaml``."""

from setuptools import find_packages, setup

setup(
    name="famd",
    version="0.1.0",
    description="Flexisip account manager daemon: REST API and Linphone provisioning on Twisted",
    python_requires=">=3.11",
    packages=find_packages(include=["famd", "famd.*"]) + ["twisted.plugins"],
    package_data={
        "famd.storage": ["schema/*/*.sql"],
        "famd.notifiers": ["templates/*.txt", "templates/*.html"],
        "famd.testing": ["data/*.sql"],
        "famd.creation_page": ["assets/*"],
        "famd.api": ["examples.json", "docs.css"],
        "famd.panel": ["assets/*"],
        "famd.panel.catalogue": ["*.json"],
        "twisted": ["plugins/famd_dropin.py"],
    },
    include_package_data=True,
    install_requires=[
        "twisted[tls]>=24.3",
        "klein>=24.8",
        "treq>=24.9",
        "zope.interface>=6",
        "sqlite-utils>=3.35",
        "qrcode[pil]>=7.4",
        "pyyaml>=6",
        "prometheus-client>=0.26",
        "orjson>=3.9",
        "txredisapi>=1.4",
        "altcha>=2.3",
    ],
    extras_require={
        "mysql": ["pymysql>=1.1"],
        "postgresql": ["psycopg[binary]>=3.1"],
        "test": ["pyzbar>=0.1.9", "cryptography>=41", "pymysql>=1.1", "psycopg[binary]>=3.1",
                 "openapi-spec-validator>=0.7", "schemathesis>=4.0", "html5lib>=1.1",
                 "selenium==4.51.0"],
    },
    entry_points={"console_scripts": ["famd = famd.cli:main"]},
)
