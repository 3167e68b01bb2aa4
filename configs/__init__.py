"""nianbao.configs"""
