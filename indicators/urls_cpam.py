"""Screens of the CPAM indicator values import, under /a/<association_slug>/aci/import/ (URL names
``aci_import_list``, ``aci_import_upload``…): the generic import screens serving the ``cpam_indicators`` kind."""

from associations.imports.urls import kind_urlpatterns
from indicators.cpam_import import KEY, URL_PREFIX

urlpatterns = kind_urlpatterns(KEY, URL_PREFIX)
