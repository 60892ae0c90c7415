"""Test harness: two plain Django views for the Django example."""

from django.http import HttpResponse, JsonResponse
from django.urls import path


def index(request):
    return HttpResponse('<h1>Hello Django!</h1>')


def api_data(request):
    return JsonResponse({'message': 'Hello from Django!',
                         'method': request.method})


urlpatterns = [
    path('', index),
    path('api/data', api_data),
]
