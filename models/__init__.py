"""nianbao.models"""
