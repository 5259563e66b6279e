from django.urls import path

from notes import views

urlpatterns = [
    path("healthz/", views.health),
    path("notes/", views.list_notes),
]
