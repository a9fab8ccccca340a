import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.k8s_ee.platform.plugins.filter.admission import FilterModule

FILTERS = FilterModule().filters()


def test_admission_parameters_of_the_default_settings():
    params = FILTERS["admission_parameters"]({})
    assert params["quota"]["ceiling"]["pods"] == "13"
    assert params["middleware_kinds"][0] == "headers"


def test_an_unknown_setting_fails_naming_it():
    with pytest.raises(AnsibleFilterError, match="admission_parameters: dns_namespaces: is not a setting of pr_up"):
        FILTERS["admission_parameters"]({"dns_namespaces": "kube-system"})
