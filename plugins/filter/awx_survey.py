# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: awx_survey
short_description: An AWX job template survey generated from a role's argument spec
version_added: 0.6.0
description:
  - Turns the options of one entry point of a role's C(meta/argument_specs.yml) into an AWX survey
    spec, so that the questions cannot drift from what the role accepts.
  - "C(str) with choices becomes C(multiplechoice); C(str) and C(path) become C(text) (0 to 1024
    characters), or C(password) when the option is C(no_log); C(int) and C(float) become C(integer)
    and C(float); C(bool) becomes C(multiplechoice) of C(true)/C(false) (AWX sends the answer as a
    string, which the roles read with C(bool)). A text question with a default needs an answer of at
    least one character."
  - Options AWX cannot ask for (lists, dicts) and inventory group options (C(*_group); the playbook's
    plays target the group by name) are left out and named in the survey's description.
  - AWX sends every question's default as an extra variable, so a survey option overrides the inventory.
  - The survey is checked against AWX's survey rules; a survey AWX would refuse fails the filter.
options:
  _input:
    description: The argument spec document, as loaded from C(meta/argument_specs.yml).
    type: dict
    required: true
  entry_point:
    description: The entry point whose options are asked.
    type: str
    default: main
  prefix:
    description: A variable prefix left out of the question names, for example C(vxlan_mesh_).
    type: str
    default: ""
  name:
    description: The survey's name; default, the entry point.
    type: str
"""

EXAMPLES = r"""
- name: A job template whose survey is the role's argument spec
  awx.awx.job_template:
    name: nodenet.fabric vxlan_mesh
    playbook: playbooks/vxlan_mesh.yml
    project: nodenet.fabric
    inventory: nodenet.fabric
    survey_enabled: true
    survey_spec: "{{ lookup('ansible.builtin.file', 'roles/vxlan_mesh/meta/argument_specs.yml') | from_yaml
                     | nodenet.fabric.awx_survey(prefix='vxlan_mesh_') }}"
"""

RETURN = r"""
_value:
  description: The survey spec AWX's C(survey_spec) takes.
  type: dict
  contains:
    name: {description: The survey's name., type: str}
    description: {description: The entry point's short description, and the options left out., type: str}
    spec:
      description: One question per option, in the argument spec's order.
      type: list
      elements: dict
  sample:
    name: main
    description: Join the pod networks of several clusters over a vxlan mesh (seed 002)
    spec:
      - {variable: vxlan_mesh_state, question_name: State, type: multiplechoice, choices: [present, absent],
         default: present, required: false, question_description: absent removes the device ...}
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.nodenet.fabric.plugins.plugin_utils.awx_survey import checked_survey, survey_spec


def awx_survey(argument_spec, entry_point="main", prefix="", name=None):
    try:
        survey, _left_out = survey_spec(argument_spec, entry_point, prefix, name)
    except (KeyError, TypeError, AttributeError) as exc:
        raise AnsibleFilterError("not an argument spec with entry point %r: %s" % (entry_point, exc))
    try:
        return checked_survey(survey)
    except ValueError as exc:
        raise AnsibleFilterError(str(exc))


class FilterModule:
    def filters(self):
        return {"awx_survey": awx_survey}
