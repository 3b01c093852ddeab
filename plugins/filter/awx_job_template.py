# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: awx_job_template
short_description: The AWX job template of one role-playbook, its survey generated from the role's argument spec
version_added: 0.6.0
description:
  - Reads C(<roles_dir>/<role>/meta/argument_specs.yml) and returns the name, description, playbook
    (C(playbooks/<role>.yml)) and survey of the role's job template; the survey is
    P(nodenet.fabric.awx_survey#filter) of the C(main) entry point, question names without the
    C(<role>_) prefix.
  - A survey AWX would refuse fails the filter.
options:
  _input:
    description: The role's name, for example C(vxlan_mesh).
    type: str
    required: true
  project:
    description: The AWX project's name; the job template is named C(<project> <role>).
    type: str
    default: nodenet.fabric
  roles_dir:
    description: The folder holding the collection's roles.
    type: path
    default: roles
"""

EXAMPLES = r"""
- name: One job template per role
  awx.awx.job_template:
    name: "{{ item.name }}"
    playbook: "{{ item.playbook }}"
    project: nodenet.fabric
    inventory: nodenet.fabric
    survey_enabled: true
    survey_spec: "{{ item.survey_spec }}"
  loop: "{{ ['vxlan_mesh', 'kube_router_install'] | map('nodenet.fabric.awx_job_template', 'nodenet.fabric', playbook_dir ~ '/../../roles') }}"
"""

RETURN = r"""
_value:
  description: The job template's fields.
  type: dict
  contains:
    name: {description: "C(<project> <role>)", type: str}
    description: {description: The role's short description and the options its survey leaves out., type: str}
    playbook: {description: "C(playbooks/<role>.yml)", type: str}
    survey_spec: {description: The survey, as P(nodenet.fabric.awx_survey#filter) returns it., type: dict}
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.nodenet.fabric.plugins.plugin_utils.awx_survey import job_template


def awx_job_template(role, project="nodenet.fabric", roles_dir="roles"):
    try:
        return job_template(role, project, roles_dir)
    except (OSError, KeyError, TypeError, AttributeError, ValueError) as exc:
        raise AnsibleFilterError("job template of role %r (argument spec under %s): %s" % (role, roles_dir, exc))


class FilterModule:
    def filters(self):
        return {"awx_job_template": awx_job_template}
